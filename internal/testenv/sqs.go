package testenv

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

//go:embed sqs.mjs
var sqsScript []byte

//go:embed duckdb.mjs
var duckdbScript []byte

var (
	scriptsOnce sync.Once
	scriptsDir  string
	scriptsErr  error
)

// script writes the embedded node scripts to a temporary directory once.
func script(name string) (string, error) {
	scriptsOnce.Do(func() {
		scriptsDir, scriptsErr = os.MkdirTemp("", "lakerelay-scripts-")
		if scriptsErr != nil {
			return
		}
		atExit(func() { os.RemoveAll(scriptsDir) })
		for n, b := range map[string][]byte{"sqs.mjs": sqsScript, "duckdb.mjs": duckdbScript} {
			if err := os.WriteFile(filepath.Join(scriptsDir, n), b, 0o600); err != nil {
				scriptsErr = err
				return
			}
		}
	})
	if scriptsErr != nil {
		return "", fmt.Errorf("testenv: %w", scriptsErr)
	}
	return filepath.Join(scriptsDir, name), nil
}

// SQS is a running local-aws-sqs server.
type SQS struct {
	// Endpoint is the server's base URL, "http://127.0.0.1:PORT".
	Endpoint string
	// Region and AccountID appear in queue ARNs and URLs.
	Region    string
	AccountID string

	cmd   *exec.Cmd
	stdin io.WriteCloser
	once  sync.Once
}

var sharedSQS shared[*SQS]

// StartSQS returns the SQS server shared by all tests of this binary,
// starting it on first use.
func StartSQS(t testing.TB) *SQS {
	t.Helper()
	return sharedSQS.get(t, startSQS)
}

// NewSQS starts an SQS server for this test alone, stopped at its end or by Stop.
func NewSQS(t testing.TB) *SQS {
	t.Helper()
	return startForTest(t, startSQS)
}

func startSQS() (*SQS, error) {
	dir, err := nodeDir("local-aws-sqs")
	if err != nil {
		return nil, err
	}
	path, err := script("sqs.mjs")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", path, dir, "0")
	cmd.SysProcAttr = procAttr()
	stdin, err := cmd.StdinPipe() // node exits when this closes (test binary gone)
	if err != nil {
		return nil, fmt.Errorf("testenv: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("testenv: %w", err)
	}
	var stderr strings.Builder
	cmd.Stderr = &lockedWriter{w: &stderr}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("testenv: start local-aws-sqs: %w", err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	select {
	case line := <-lines:
		port, ok := strings.CutPrefix(line, "listening ")
		if !ok {
			_ = killGroup(cmd.Process.Pid)
			return nil, fmt.Errorf("testenv: local-aws-sqs: unexpected output %q", line)
		}
		s := &SQS{Endpoint: "http://127.0.0.1:" + port, Region: Region, AccountID: "123456789012", cmd: cmd, stdin: stdin}
		go func() { _ = cmd.Wait() }()
		return s, nil
	case <-time.After(30 * time.Second):
		_ = killGroup(cmd.Process.Pid)
		return nil, fmt.Errorf("testenv: local-aws-sqs did not start in 30s: %s", stderr.String())
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Stop kills the server. It is idempotent.
func (s *SQS) Stop() {
	s.once.Do(func() {
		s.stdin.Close()
		_ = killGroup(s.cmd.Process.Pid)
	})
}

// Config returns an aws.Config with dummy credentials whose base endpoint is
// the server.
func (s *SQS) Config(t testing.TB) aws.Config {
	t.Helper()
	return staticConfig(t, s.Endpoint, "test", "test", "")
}

// Client returns an SQS client for the server.
func (s *SQS) Client(t testing.TB) *sqs.Client {
	t.Helper()
	return sqs.NewFromConfig(s.Config(t))
}

// Env returns environment variables that point a child process's SQS client
// at this server, with dummy credentials. When combined with MinIO's, put
// MinIO's last: os/exec uses the last value of a repeated variable.
func (s *SQS) Env() []string {
	return append(baseEnv(),
		"AWS_ENDPOINT_URL_SQS="+s.Endpoint,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
	)
}

// QueueOptions configures NewQueue.
//
// local-aws-sqs differs from SQS in one way that matters to tests: its long
// poll keeps collecting until MaxNumberOfMessages or the end of
// WaitTimeSeconds (SQS returns as soon as messages are available), and a
// message whose visibility timeout ends during that wait is collected again,
// so one response can hold the same message twice. Keep VisibilityTimeout
// longer than the wait time a test uses.
type QueueOptions struct {
	// VisibilityTimeout of the queue, rounded up to whole seconds; 0 means
	// SQS's default (30s).
	VisibilityTimeout time.Duration
	// MaxReceiveCount > 0 gives the queue a dead-letter queue with this
	// redrive count.
	MaxReceiveCount int
}

// Queue names a created queue and, when configured, its dead-letter queue.
type Queue struct {
	URL, ARN       string
	DLQURL, DLQARN string
}

// NewQueue creates a queue with a fresh unique name.
func (s *SQS) NewQueue(t testing.TB, o QueueOptions) Queue {
	t.Helper()
	c := s.Client(t)
	name := "q-" + randomHex(6)
	var q Queue
	attrs := map[string]string{}
	if o.VisibilityTimeout > 0 {
		attrs[string(sqstypes.QueueAttributeNameVisibilityTimeout)] = strconv.Itoa(int(math.Ceil(o.VisibilityTimeout.Seconds())))
	}
	if o.MaxReceiveCount > 0 {
		q.DLQURL, q.DLQARN = s.createQueue(t, c, name+"-dlq", nil)
		rp, _ := json.Marshal(map[string]string{"deadLetterTargetArn": q.DLQARN, "maxReceiveCount": strconv.Itoa(o.MaxReceiveCount)})
		attrs[string(sqstypes.QueueAttributeNameRedrivePolicy)] = string(rp)
	}
	q.URL, q.ARN = s.createQueue(t, c, name, attrs)
	return q
}

func (s *SQS) createQueue(t testing.TB, c *sqs.Client, name string, attrs map[string]string) (url, arn string) {
	t.Helper()
	ctx := context.Background()
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	if err != nil {
		t.Fatalf("testenv: create queue %s: %v", name, err)
	}
	a, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       out.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("testenv: queue attributes %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl), a.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
}

// Announce sends, to the queue at queueURL, one S3 event notification
// (S3Notification) for each of keys in bucket, as S3 would on their upload.
func (s *SQS) Announce(t testing.TB, queueURL, bucket string, keys ...string) {
	t.Helper()
	c := s.Client(t)
	for _, k := range keys {
		if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(S3Notification(bucket, k))}); err != nil {
			t.Fatalf("announce s3://%s/%s: %v", bucket, k, err)
		}
	}
}

// S3Notification is the body of an S3 event notification (ObjectCreated:Put,
// without a size or version) announcing key in bucket, the key encoded as
// S3 encodes it there.
func S3Notification(bucket, key string) string {
	k := strings.ReplaceAll(url.QueryEscape(key), "%2F", "/")
	return fmt.Sprintf(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":%q},"object":{"key":%q}}}]}`, bucket, k)
}
