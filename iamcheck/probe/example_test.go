package probe_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/lakerelay/lakerelay/iamcheck/probe"
)

// A stand-in endpoint on loopback, so that the example runs offline: STS
// knows the caller, the bucket exists, but writing to it is denied. The
// tests of this package run the same checks against MinIO and
// local-aws-sqs.
func endpoint() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/": // STS GetCallerIdentity
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprint(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
				`<Arn>arn:aws:iam::111122223333:user/exporter</Arn><UserId>AIDAEXAMPLE</UserId><Account>111122223333</Account>`+
				`</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
		case r.Method == http.MethodHead: // S3 HeadBucket
			w.WriteHeader(http.StatusOK)
		default: // S3 PutObject
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
		}
	}))
}

func ExampleRun() {
	srv := endpoint()
	defer srv.Close()

	// Normally: cfg, err := config.LoadDefaultConfig(ctx) (or internal/awsenv).
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIAEXAMPLE", "secret", "")}
	results := probe.Run(context.Background(), cfg, probe.Options{
		Bucket:    "customer-bucket",
		Prefix:    "lakerelay/",
		S3Options: []func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true }},
	})
	for _, r := range results {
		line := fmt.Sprintf("%-22s %-18s advisory=%-5v %d %s", r.Check, r.Outcome, r.Advisory, r.Status, r.Code)
		fmt.Println(strings.TrimSpace(line))
		switch {
		case r.Check == "sts:GetCallerIdentity" && r.Outcome == probe.OutcomeOK:
			fmt.Println("  caller:", r.Detail)
		case r.Outcome == probe.OutcomeMissingPermission:
			fmt.Println("  grant:", r.Action, "on the test object under the prefix:",
				strings.HasPrefix(r.Target, "customer-bucket/lakerelay/"+probe.KeyPrefix))
		}
	}
	fmt.Println("failed:", probe.AnyFailed(results))
	// Output:
	// sts:GetCallerIdentity  ok                 advisory=false 0
	//   caller: arn:aws:iam::111122223333:user/exporter
	// s3:HeadBucket          ok                 advisory=true  0
	// s3:PutObject           missing_permission advisory=false 403 AccessDenied
	//   grant: s3:PutObject on the test object under the prefix: true
	// s3:GetObject           skipped            advisory=true  0
	// failed: true
}

// A writer's test object never lands in a Security Lake partition.
func ExampleWritePrefix() {
	fmt.Println(probe.WritePrefix("ext/mysource/region=us-east-1/accountId=111122223333/eventDay=20240101/"))
	// Output: ext/mysource/
}
