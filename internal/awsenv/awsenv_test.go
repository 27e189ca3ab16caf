package awsenv_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay/internal/awsenv"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    awsenv.Options
		ok   bool
	}{
		{"zero", awsenv.Options{}, true},
		{"role", awsenv.Options{RoleARN: "arn:aws:iam::123456789012:role/path/Writer", ExternalID: "ext-123"}, true},
		{"bad role", awsenv.Options{RoleARN: "arn:aws:iam::1234:role/x"}, false},
		{"user not role", awsenv.Options{RoleARN: "arn:aws:iam::123456789012:user/x"}, false},
		{"external id without role", awsenv.Options{ExternalID: "abc"}, false},
		{"bad external id", awsenv.Options{RoleARN: "arn:aws:iam::123456789012:role/x", ExternalID: "a b"}, false},
		{"bad session", awsenv.Options{SessionName: "has space"}, false},
		{"role name of 512", awsenv.Options{RoleARN: "arn:aws:iam::123456789012:role/" + strings.Repeat("r", 512)}, true},
		{"role name of 513", awsenv.Options{RoleARN: "arn:aws:iam::123456789012:role/" + strings.Repeat("r", 513)}, false},
		{"empty role name", awsenv.Options{RoleARN: "arn:aws:iam::123456789012:role/"}, false},
		{"session of 64", awsenv.Options{SessionName: strings.Repeat("s", 64)}, true},
		{"session of 65", awsenv.Options{SessionName: strings.Repeat("s", 65)}, false},
		{"session of 1", awsenv.Options{SessionName: "s"}, false},
		{"short duration", awsenv.Options{Duration: time.Minute}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}

// TestLoadAssumesRoleAgainstMinIO loads the config the way the examples do,
// from the environment, and assumes a role through MinIO's STS.
func TestLoadAssumesRoleAgainstMinIO(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	for _, kv := range m.Env() {
		k, v, _ := bytes.Cut([]byte(kv), []byte("="))
		if bytes.HasPrefix(k, []byte("AWS_")) {
			t.Setenv(string(k), string(v))
		}
	}
	ctx := context.Background()
	cfg, err := awsenv.Load(ctx, awsenv.Options{
		RoleARN:     "arn:aws:iam::123456789012:role/lakerelay-writer",
		ExternalID:  "ext-0123",
		SessionName: "export-test",
		Duration:    time.Hour,
	})
	require.NoError(t, err)
	creds, err := cfg.Credentials.Retrieve(ctx)
	require.NoError(t, err)
	require.NotEqual(t, m.AccessKey, creds.AccessKeyID, "credentials come from AssumeRole, not the root key")
	require.NotEmpty(t, creds.SessionToken)

	c := s3.NewFromConfig(cfg, awsenv.S3Options(cfg, false))
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("k"), Body: bytes.NewReader([]byte("x"))})
	require.NoError(t, err, "path-style is chosen because a custom endpoint is set")
}

func TestLoadNeedsRegion(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	_, err := awsenv.Load(context.Background(), awsenv.Options{})
	require.ErrorContains(t, err, "region")
}
