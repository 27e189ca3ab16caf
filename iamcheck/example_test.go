package iamcheck_test

import (
	"fmt"
	"os"

	"github.com/lakerelay/lakerelay/iamcheck"
)

func ExampleEvaluate() {
	queuePolicy, _, err := iamcheck.ParsePolicy([]byte(`{
	  "Version": "2012-10-17",
	  "Statement": [{
	    "Sid": "S3Notifications",
	    "Effect": "Allow",
	    "Principal": {"Service": "s3.amazonaws.com"},
	    "Action": "SQS:SendMessage",
	    "Resource": "arn:aws:sqs:us-east-1:111122223333:events",
	    "Condition": {
	      "ArnLike": {"aws:SourceArn": "arn:aws:s3:*:*:my-logs"},
	      "StringEquals": {"aws:SourceAccount": "111122223333"}
	    }
	  }]
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, bucket := range []string{"my-logs", "someone-elses-logs"} {
		r := iamcheck.Evaluate(iamcheck.Request{
			Principal: "s3.amazonaws.com",
			Action:    "sqs:SendMessage",
			Resource:  "arn:aws:sqs:us-east-1:111122223333:events",
			Context: map[string][]string{
				"aws:SourceArn":     {"arn:aws:s3:::" + bucket},
				"aws:SourceAccount": {"111122223333"},
			},
		}, nil, queuePolicy)
		fmt.Println(bucket, r.Decision)
	}
	// Output:
	// my-logs allow
	// someone-elses-logs implicit_deny
}

func ExampleParsePolicy() {
	_, findings, err := iamcheck.ParsePolicy([]byte(`{
	  "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "NotAction": "s3:PutObject",
	    "Resource": "arn:aws:s3:::docs/*", "Condition": {"StringEquals": {"s3:prefix": "home/*"}}}]
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range findings {
		fmt.Printf("%s %s %s\n", f.Severity, f.Code, f.Path)
	}
	// Output:
	// warning missing-version Version
	// warning wildcard-without-like-operator Statement[0].Condition.StringEquals.s3:prefix
	// error action-and-notaction Statement[0]
}

func ExampleGenerate() {
	job := iamcheck.JobConfig{
		Job:           iamcheck.JobCollect,
		Bucket:        "my-logs",
		QueueARN:      "arn:aws:sqs:us-east-1:111122223333:events",
		SourceAccount: "111122223333",
	}
	policy, err := iamcheck.Generate(job, iamcheck.KindQueue)
	if err != nil {
		fmt.Println(err)
		return
	}
	os.Stdout.Write(policy)
	// Output:
	// {
	//   "Version": "2012-10-17",
	//   "Statement": [
	//     {
	//       "Sid": "AllowS3Notifications",
	//       "Effect": "Allow",
	//       "Principal": {
	//         "Service": "s3.amazonaws.com"
	//       },
	//       "Action": "sqs:SendMessage",
	//       "Resource": "arn:aws:sqs:us-east-1:111122223333:events",
	//       "Condition": {
	//         "ArnLike": {
	//           "aws:SourceArn": "arn:aws:s3:*:*:my-logs"
	//         },
	//         "StringEquals": {
	//           "aws:SourceAccount": "111122223333"
	//         }
	//       }
	//     }
	//   ]
	// }
}

func ExampleCheck() {
	job := iamcheck.JobConfig{Job: iamcheck.JobExport, Bucket: "customer-bucket", Prefix: "lakerelay/"}
	identity, _, err := iamcheck.ParsePolicy([]byte(`{"Version": "2012-10-17", "Statement": [
	  {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::customer-bucket/*"}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := iamcheck.Check(job, []*iamcheck.Policy{identity}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range res.Missing {
		fmt.Println("missing:", m.Action)
	}
	for _, f := range res.Findings {
		fmt.Println("finding:", f.Code, f.Path)
	}
	// Output:
	// missing: s3:AbortMultipartUpload
	// finding: wildcard-resource Statement[0].Resource[0]
	// finding: missing-secure-transport Statement[0]
}

func ExampleLint() {
	trust, _, err := iamcheck.ParsePolicy([]byte(`{"Version": "2012-10-17", "Statement": [{
	  "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/vendor"}, "Action": "sts:AssumeRole"}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	job := iamcheck.JobConfig{Job: iamcheck.JobExport, Bucket: "customer-bucket",
		RoleARN: "arn:aws:iam::111122223333:role/lakerelay-export", TrustedPrincipal: "arn:aws:iam::444455556666:role/vendor",
		ExternalID: "tenant-42", SessionTags: true}
	for _, f := range iamcheck.Lint(trust, iamcheck.KindTrust, &job) {
		fmt.Println(f.Severity, f.Code, f.Path)
	}
	// Output:
	// security_warning missing-external-id Statement[0].Principal.AWS[0]
	// error missing-tag-session Statement
}
