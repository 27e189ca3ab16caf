package awsenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/lakerelay/lakerelay/iamcheck"
)

// DefaultSessionName is the role session name used when none is given.
const DefaultSessionName = "lakerelay"

// Options configures Load. The zero value loads the standard chain.
type Options struct {
	// Region overrides the region from the environment or shared config.
	Region string
	// Profile selects a shared config profile.
	Profile string
	// RoleARN, when set, makes the config assume this role.
	RoleARN string
	// ExternalID is sent with AssumeRole (required by most third-party
	// trust policies).
	ExternalID string
	// SessionName is the role session name (DefaultSessionName when empty).
	SessionName string
	// Duration of the role session (the STS default, one hour, when 0).
	Duration time.Duration
}

// The lengths are checked apart: a counted repetition such as {1,512}
// compiles into that many copies, which cost every program 5 ms at start.
var (
	roleARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/([\w+=,.@/-]+)$`)
	session = regexp.MustCompile(`^[\w+=,.@-]+$`)
)

// validRoleARN reports whether arn is an IAM role ARN whose role name (with
// its path) has 1 to 512 characters.
func validRoleARN(arn string) bool {
	m := roleARN.FindStringSubmatch(arn)
	return m != nil && len(m[1]) <= 512
}

// validSessionName reports whether name is a valid role session name.
func validSessionName(name string) bool {
	return len(name) >= 2 && len(name) <= 64 && session.MatchString(name)
}

// Validate reports every problem with o, naming the field.
func (o Options) Validate() error {
	var errs []error
	if o.RoleARN != "" && !validRoleARN(o.RoleARN) {
		errs = append(errs, fmt.Errorf("awsenv: RoleARN %q: not an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)", o.RoleARN))
	}
	if o.ExternalID != "" {
		if o.RoleARN == "" {
			errs = append(errs, errors.New("awsenv: ExternalID: set without RoleARN"))
		}
		if !iamcheck.ValidExternalID(o.ExternalID) {
			errs = append(errs, errors.New("awsenv: ExternalID: must be 2-1224 characters of [A-Za-z0-9+=,.@:/-_]"))
		}
	}
	if o.SessionName != "" && !validSessionName(o.SessionName) {
		errs = append(errs, fmt.Errorf("awsenv: SessionName %q: must be 2-64 characters of [A-Za-z0-9+=,.@-_]", o.SessionName))
	}
	if o.Duration != 0 && (o.Duration < 15*time.Minute || o.Duration > 12*time.Hour) {
		errs = append(errs, fmt.Errorf("awsenv: Duration %v: must be between 15m and 12h", o.Duration))
	}
	return errors.Join(errs...)
}

// Load returns an aws.Config from the standard chain, assuming o.RoleARN
// when it is set. Credentials are resolved lazily, on first use, and cached.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	if err := o.Validate(); err != nil {
		return aws.Config{}, err
	}
	var lo []func(*config.LoadOptions) error
	if o.Region != "" {
		lo = append(lo, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(o.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("awsenv: load AWS config: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("awsenv: no AWS region: set --region or AWS_REGION")
	}
	if o.RoleARN != "" {
		cfg.Credentials = AssumeRole(cfg, o)
	}
	return cfg, nil
}

// AssumeRole returns a cached credentials provider that assumes o.RoleARN
// with the credentials of cfg, sending o.ExternalID, o.SessionName and
// o.Duration when set.
func AssumeRole(cfg aws.Config, o Options) aws.CredentialsProvider {
	name := o.SessionName
	if name == "" {
		name = DefaultSessionName
	}
	p := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), o.RoleARN, func(ao *stscreds.AssumeRoleOptions) {
		ao.RoleSessionName = name
		if o.ExternalID != "" {
			ao.ExternalID = aws.String(o.ExternalID)
		}
		if o.Duration > 0 {
			ao.Duration = o.Duration
		}
	})
	return aws.NewCredentialsCache(p)
}

// CustomS3Endpoint reports whether cfg or the environment sets a custom S3
// endpoint (a MinIO or other S3-compatible server).
func CustomS3Endpoint(cfg aws.Config) bool {
	return cfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL_S3") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
}

// S3Options returns the S3 client option the examples use: path-style
// addressing when forced or when a custom S3 endpoint is configured
// (S3-compatible servers rarely serve virtual-hosted buckets).
func S3Options(cfg aws.Config, pathStyle bool) func(*s3.Options) {
	ps := pathStyle || CustomS3Endpoint(cfg)
	return func(o *s3.Options) {
		if ps {
			o.UsePathStyle = true
		}
	}
}
