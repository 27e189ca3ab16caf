package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Region is the region every test server reports.
const Region = "us-east-1"

// MinIO is a running MinIO server.
type MinIO struct {
	// Endpoint is the server's base URL, "http://127.0.0.1:PORT".
	Endpoint string
	// AccessKey and SecretKey are the root credentials.
	AccessKey string
	SecretKey string
	// Region is the server's region.
	Region string

	cmd     *exec.Cmd
	dir     string
	logPath string
	once    sync.Once
}

var sharedMinIO shared[*MinIO]

// StartMinIO returns the MinIO server shared by all tests of this binary,
// starting it on first use. It fails t if MinIO is not installed or does not
// start.
func StartMinIO(t testing.TB) *MinIO {
	t.Helper()
	return sharedMinIO.get(t, startMinIO)
}

// NewMinIO starts a MinIO server for this test alone; it is stopped at the
// end of the test, or earlier by Stop (to test a server that goes down).
func NewMinIO(t testing.TB) *MinIO {
	t.Helper()
	return startForTest(t, startMinIO)
}

func startMinIO() (*MinIO, error) {
	bin, err := minioPath()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		m, err := tryStartMinIO(bin)
		if err == nil {
			return m, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func tryStartMinIO(bin string) (*MinIO, error) {
	dir, err := os.MkdirTemp("", "lakerelay-minio-")
	if err != nil {
		return nil, fmt.Errorf("testenv: %w", err)
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	cport, err := FreePort()
	if err != nil {
		return nil, err
	}
	m := &MinIO{
		Endpoint:  "http://127.0.0.1:" + strconv.Itoa(port),
		AccessKey: "lakerelayroot",
		SecretKey: "lakerelay-secret-" + randomHex(8),
		Region:    Region,
		dir:       dir,
		logPath:   filepath.Join(dir, "minio.log"),
	}
	logf, err := os.Create(m.logPath)
	if err != nil {
		return nil, fmt.Errorf("testenv: %w", err)
	}
	defer logf.Close()
	data := filepath.Join(dir, "data")
	cmd := exec.Command(bin, "server", data,
		"--address", "127.0.0.1:"+strconv.Itoa(port),
		"--console-address", "127.0.0.1:"+strconv.Itoa(cport))
	cmd.Env = append(cleanEnv("MINIO_"),
		"MINIO_ROOT_USER="+m.AccessKey,
		"MINIO_ROOT_PASSWORD="+m.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_SITE_REGION="+Region,
		"MINIO_API_REQUESTS_DEADLINE=30s",
	)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("testenv: start MinIO: %w", err)
	}
	m.cmd = cmd
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-exited:
			log, _ := os.ReadFile(m.logPath)
			os.RemoveAll(dir)
			return nil, fmt.Errorf("testenv: MinIO exited at start: %s", tail(log))
		default:
		}
		resp, err := http.Get(m.Endpoint + "/minio/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			m.Stop()
			log, _ := os.ReadFile(m.logPath)
			return nil, fmt.Errorf("testenv: MinIO not ready after 60s: %s", tail(log))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return m, nil
}

// Stop kills the server and removes its data. It is idempotent.
func (m *MinIO) Stop() {
	m.once.Do(func() {
		if m.cmd != nil && m.cmd.Process != nil {
			_ = killGroup(m.cmd.Process.Pid)
		}
		// Give the process a moment to release its files.
		for i := 0; i < 50; i++ {
			if c, err := net.DialTimeout("tcp", strings.TrimPrefix(m.Endpoint, "http://"), 20*time.Millisecond); err == nil {
				c.Close()
				time.Sleep(20 * time.Millisecond)
				continue
			}
			break
		}
		os.RemoveAll(m.dir)
	})
}

// Config returns an aws.Config with the root credentials whose base
// endpoint is the server (S3 and STS).
func (m *MinIO) Config(t testing.TB) aws.Config {
	t.Helper()
	return m.ConfigWith(t, m.AccessKey, m.SecretKey, "")
}

// ConfigWith is Config with the given credentials.
func (m *MinIO) ConfigWith(t testing.TB, accessKey, secretKey, sessionToken string) aws.Config {
	t.Helper()
	return staticConfig(t, m.Endpoint, accessKey, secretKey, sessionToken)
}

func staticConfig(t testing.TB, endpoint, ak, sk, token string) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(ak, sk, token)),
		config.WithBaseEndpoint(endpoint),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
		config.WithEC2IMDSClientEnableState(0), // default; IMDS is never reached with static credentials
	)
	if err != nil {
		t.Fatalf("testenv: aws config: %v", err)
	}
	return cfg
}

// S3 returns an S3 client with root credentials and path-style addressing.
func (m *MinIO) S3(t testing.TB) *s3.Client {
	t.Helper()
	return s3.NewFromConfig(m.Config(t), func(o *s3.Options) { o.UsePathStyle = true })
}

// NewBucket creates a bucket with a fresh unique name and returns the name.
func (m *MinIO) NewBucket(t testing.TB) string {
	t.Helper()
	name := "lr-" + randomHex(8)
	c := m.S3(t)
	// MinIO may answer 503 XMinioServerNotInitialized for a moment after
	// it reports ready; wait that out (and only that).
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &name})
		if err == nil {
			return name
		}
		var re interface{ HTTPStatusCode() int }
		if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("testenv: create bucket %s: %v", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// RestrictedConfig returns an aws.Config whose temporary credentials come
// from STS AssumeRole with sessionPolicy as the inline session policy, so
// MinIO allows exactly what that policy allows.
func (m *MinIO) RestrictedConfig(t testing.TB, sessionPolicy string) aws.Config {
	t.Helper()
	ak, sk, token := m.AssumeRole(t, sessionPolicy)
	return m.ConfigWith(t, ak, sk, token)
}

// AssumeRole calls STS AssumeRole with an inline session policy and returns
// the temporary credentials.
func (m *MinIO) AssumeRole(t testing.TB, sessionPolicy string) (accessKey, secretKey, sessionToken string) {
	t.Helper()
	in := &sts.AssumeRoleInput{
		RoleArn:         aws.String("arn:aws:iam::123456789012:role/lakerelay-test"),
		RoleSessionName: aws.String("lakerelay-test"),
		DurationSeconds: aws.Int32(3600),
	}
	if sessionPolicy != "" {
		in.Policy = aws.String(sessionPolicy)
	}
	out, err := sts.NewFromConfig(m.Config(t)).AssumeRole(context.Background(), in)
	if err != nil {
		t.Fatalf("testenv: MinIO AssumeRole: %v", err)
	}
	c := out.Credentials
	return aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)
}

// Env returns environment variables that point an example program (a child
// process) at this server with the root credentials.
func (m *MinIO) Env() []string {
	return append(baseEnv(),
		"AWS_ENDPOINT_URL_S3="+m.Endpoint,
		"AWS_ENDPOINT_URL_STS="+m.Endpoint,
		"AWS_ACCESS_KEY_ID="+m.AccessKey,
		"AWS_SECRET_ACCESS_KEY="+m.SecretKey,
	)
}

// baseEnv is the inherited environment without AWS settings, plus a region
// and no shared config files, so child processes never reach real AWS.
func baseEnv() []string {
	return append(cleanEnv("AWS_"),
		"AWS_REGION="+Region,
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

func cleanEnv(prefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("testenv: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ClosedEndpoint returns the URL of a 127.0.0.1 port where nothing listens,
// for "server down" tests.
func ClosedEndpoint(t testing.TB) string {
	t.Helper()
	p, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return "http://127.0.0.1:" + strconv.Itoa(p)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}

func tail(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
