package setup_test

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lakerelay/lakerelay/iamcheck"
	"github.com/lakerelay/lakerelay/setup"
)

func ExampleNotification() {
	n, err := setup.Notification(iamcheck.JobConfig{Job: iamcheck.JobCollect, Bucket: "cloudtrail-logs", Prefix: "AWSLogs",
		QueueARN: "arn:aws:sqs:us-east-1:111122223333:ct-events", SourceAccount: "111122223333"})
	if err != nil {
		panic(err)
	}
	b, _ := json.Marshal(n)
	fmt.Println(string(b))
	// Output:
	// {"QueueConfigurations":[{"Id":"lakerelay","QueueArn":"arn:aws:sqs:us-east-1:111122223333:ct-events","Events":["s3:ObjectCreated:*"],"Filter":{"Key":{"FilterRules":[{"Name":"prefix","Value":"AWSLogs/"}]}}}]}
}

func ExampleRender() {
	job := iamcheck.JobConfig{Job: iamcheck.JobCollect, Bucket: "cloudtrail-logs", QueueARN: "arn:aws:sqs:us-east-1:111122223333:ct-events",
		RoleARN: "arn:aws:iam::111122223333:role/collector", TrustedPrincipal: "444455556666", ExternalID: "tenant-42", SourceAccount: "111122223333"}
	out, err := setup.Render(job, setup.FormatCloudFormationYAML, setup.Options{})
	if err != nil {
		panic(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "    Type: ") {
			fmt.Println(strings.TrimSpace(line))
		}
	}
	// Output:
	// Type: AWS::S3::Bucket
	// Type: AWS::SQS::Queue
	// Type: AWS::IAM::Role
	// Type: AWS::SQS::Queue
	// Type: AWS::SQS::QueuePolicy
}
