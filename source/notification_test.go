package source

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func s3Event(records ...string) string {
	return `{"Records":[` + strings.Join(records, ",") + `]}`
}

func s3Record(event, bucket, key string) string {
	return `{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-west-2","eventTime":"1970-01-01T00:00:00.000Z","eventName":"` + event +
		`","s3":{"s3SchemaVersion":"1.0","bucket":{"name":"` + bucket + `","arn":"arn:aws:s3:::` + bucket + `"},"object":{"key":"` + key + `","size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e","versionId":"v1","sequencer":"0055AED6DCD90281E5"}}}`
}

func snsWrap(msg string) string {
	b, _ := json.Marshal(msg)
	return `{"Type":"Notification","MessageId":"5308","TopicArn":"arn:aws:sns:us-east-1:123456789012:t","Subject":"Amazon S3 Notification","Message":` + string(b) +
		`,"Timestamp":"2021-07-08T02:20:31.059Z","SignatureVersion":"1","Signature":"x","SigningCertURL":"https://x","UnsubscribeURL":"https://x"}`
}

func eventBridge(detailType, bucket, key string) string {
	return `{"version":"0","id":"17793124-05d4-b198-2fde-7ededc63b103","detail-type":"` + detailType + `","source":"aws.s3","account":"111122223333","time":"2021-11-12T00:00:00Z","region":"ca-central-1","resources":["arn:aws:s3:::` + bucket +
		`"],"detail":{"version":"0","bucket":{"name":"` + bucket + `"},"object":{"key":"` + key + `","size":5,"etag":"b1946ac92492d2347c6235b4d2611184","sequencer":"617f08299329d189"},"request-id":"N4N7GDK58NMKJ12R","requester":"123456789012","source-ip-address":"1.2.3.4","reason":"PutObject"}}`
}

// fdrNotice is CrowdStrike Falcon Data Replicator's notice, as documented
// by CrowdStrike (the FDR SQS message body).
var fdrNotice = func() string {
	b, err := os.ReadFile(filepath.Join("testdata", "presets", "fdr-notification.json"))
	if err != nil {
		panic(err)
	}
	return string(b)
}()

const testEvent = `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2014-10-13T15:57:02.089Z","Bucket":"bucketname","RequestId":"5582815E1AEA5ADF","HostId":"8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"}`

func TestDecodeNotification(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		format  string
		keys    []string // bucket/key
		skipped int
		test    bool
	}{
		{"s3", s3Event(s3Record("ObjectCreated:Put", "mybucket", "AWSLogs/year%3D2024/red+flower.jpg")), "s3", []string{"mybucket/AWSLogs/year=2024/red flower.jpg"}, 0, false},
		{"s3/plus-and-unicode", s3Event(s3Record("ObjectCreated:CompleteMultipartUpload", "b-1.x", "a%2Bb+c/%C3%A9t%C3%A9%3D1")), "s3", []string{"b-1.x/a+b c/été=1"}, 0, false},
		{"s3/several", s3Event(s3Record("ObjectCreated:Put", "bkt", "a"), s3Record("ObjectRemoved:Delete", "bkt", "b"), s3Record("ObjectCreated:Copy", "bkt", "c")), "s3", []string{"bkt/a", "bkt/c"}, 1, false},
		{"s3/only-removed", s3Event(s3Record("ObjectRemoved:Delete", "bkt", "b")), "s3", nil, 1, false},
		{"sns", snsWrap(s3Event(s3Record("ObjectCreated:Put", "bkt", "k+1"))), "sns+s3", []string{"bkt/k 1"}, 0, false},
		{"sns/test", snsWrap(testEvent), "sns+test", nil, 0, true},
		{"sns/cloudtrail", snsWrap(`{"s3Bucket":"trail-bkt","s3ObjectKey":["AWSLogs/1/CloudTrail/us-east-1/2024/01/01/x.json.gz","y+z.json.gz"]}`), "sns+cloudtrail",
			[]string{"trail-bkt/AWSLogs/1/CloudTrail/us-east-1/2024/01/01/x.json.gz", "trail-bkt/y+z.json.gz"}, 0, false},
		{"sns/cloudtrail-validation", snsWrap("CloudTrail validation message."), "sns+test", nil, 0, true},
		{"sns/eventbridge", snsWrap(eventBridge("Object Created", "bkt", "a b+c")), "sns+eventbridge", []string{"bkt/a b+c"}, 0, false},
		{"eventbridge", eventBridge("Object Created", "bkt", "x/y z=1+é"), "eventbridge", []string{"bkt/x/y z=1+é"}, 0, false},
		{"eventbridge/deleted", eventBridge("Object Deleted", "bkt", "x"), "eventbridge", nil, 1, false},
		{"cloudtrail", `{"s3Bucket":"trail-bkt","s3ObjectKey":["k1"]}`, "cloudtrail", []string{"trail-bkt/k1"}, 0, false},
		{"legacy-bucket-name", `{"s3Bucket":"Legacy_Bucket","s3ObjectKey":["k1"]}`, "cloudtrail", []string{"Legacy_Bucket/k1"}, 0, false},
		{"test", testEvent, "test", nil, 0, true},
		{"crowdstrike-fdr", fdrNotice, "crowdstrike-fdr", []string{"cs-prod-cannon-example/data/f0714ca5-3689-448d-b5cc-582a6f7a56b1/part-00000.gz",
			"cs-prod-cannon-example/data/f0714ca5-3689-448d-b5cc-582a6f7a56b1/part-00001.gz"}, 0, false},
		{"crowdstrike-fdr/no-prefix", `{"bucket":"bkt","files":[{"path":"a b+c.gz"}]}`, "crowdstrike-fdr", []string{"bkt/a b+c.gz"}, 0, false},
		{"test/whitespace", "\n " + testEvent + "\n", "test", nil, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := DecodeNotification([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, o := range n.Objects {
				keys = append(keys, o.Bucket+"/"+o.Key)
			}
			if n.Format != tt.format || !equal(keys, tt.keys) || n.Skipped != tt.skipped || n.Test != tt.test {
				t.Fatalf("got %+v (keys %q), want format %s keys %q skipped %d test %v", n, keys, tt.format, tt.keys, tt.skipped, tt.test)
			}
		})
	}
	n, _ := DecodeNotification([]byte(strings.Replace(eventBridge("Object Created", "bkt", "k"), `"size":5,`, `"size":5,"version-id":"IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",`, 1)))
	if n.Objects[0].VersionID != "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e" || n.Objects[0].Size != 5 {
		t.Errorf("eventbridge version/size: %+v", n.Objects[0])
	}
	n, _ = DecodeNotification([]byte(s3Event(s3Record("ObjectCreated:Put", "bkt", "k"))))
	if n.Objects[0].VersionID != "v1" || n.Objects[0].Size != 1024 || n.Objects[0].EventName != "ObjectCreated:Put" {
		t.Errorf("s3 version/size: %+v", n.Objects[0])
	}
}

func TestDecodeNotificationErrors(t *testing.T) {
	for name, body := range map[string]string{
		"empty":             "",
		"not-json":          "hello",
		"truncated":         `{"Records":[`,
		"array":             `[1]`,
		"unknown":           `{"foo":"bar"}`,
		"records-empty":     `{"Records":[]}`,
		"records-not-array": `{"Records":{}}`,
		"wrong-source":      strings.Replace(s3Event(s3Record("ObjectCreated:Put", "bkt", "k")), "aws:s3", "aws:sqs", 1),
		"wrong-version":     strings.Replace(s3Event(s3Record("ObjectCreated:Put", "bkt", "k")), `"2.1"`, `"3.0"`, 1),
		"bad-escape":        s3Event(s3Record("ObjectCreated:Put", "bkt", "a%zz")),
		"empty-key":         s3Event(s3Record("ObjectCreated:Put", "bkt", "")),
		"dotdot-key":        s3Event(s3Record("ObjectCreated:Put", "bkt", "a/../b")),
		"control-char-key":  s3Event(s3Record("ObjectCreated:Put", "bkt", "a%0Ab")),
		"bad-bucket":        s3Event(s3Record("ObjectCreated:Put", "bad/bucket", "k")),
		"bucket-dash-end":   s3Event(s3Record("ObjectCreated:Put", "bucket-", "k")),
		"short-bucket":      s3Event(s3Record("ObjectCreated:Put", "ab", "k")),
		"sns-no-message":    `{"Type":"Notification","TopicArn":"arn:aws:sns:us-east-1:1:t"}`,
		"sns-subscription":  `{"Type":"SubscriptionConfirmation","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"You have chosen to subscribe","SubscribeURL":"https://x"}`,
		"sns-garbage":       snsWrap("not json"),
		"sns-in-sns":        snsWrap(snsWrap(testEvent)),
		"eventbridge-bad":   `{"source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name":"bkt"},"object":{}}}`,
		"cloudtrail-empty":  `{"s3Bucket":"bkt","s3ObjectKey":[]}`,
		"cloudtrail-string": `{"s3Bucket":"bkt","s3ObjectKey":"k"}`,
		"fdr-no-bucket":     `{"pathPrefix":"data/x","files":[{"path":"data/x/a.gz"}]}`,
		"fdr-no-files":      `{"bucket":"bkt","pathPrefix":"data/x"}`,
		"fdr-files-empty":   `{"bucket":"bkt","pathPrefix":"data/x","files":[]}`,
		"fdr-files-object":  `{"bucket":"bkt","files":{"path":"a"}}`,
		"fdr-no-path":       `{"bucket":"bkt","files":[{"size":1}]}`,
		"fdr-path-type":     `{"bucket":"bkt","files":[{"path":7}]}`,
		"fdr-outside":       `{"bucket":"bkt","pathPrefix":"data/x","files":[{"path":"data/y/a.gz"}]}`,
		"fdr-negative-size": `{"bucket":"bkt","files":[{"path":"a","size":-1}]}`,
		"fdr-bad-bucket":    `{"bucket":"b/k","files":[{"path":"a"}]}`,
		"fdr-dotdot":        `{"bucket":"bkt","files":[{"path":"a/../b"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeNotification([]byte(body))
			if !errors.Is(err, ErrInvalidNotification) {
				t.Fatalf("error %v, want ErrInvalidNotification", err)
			}
		})
	}
}

func FuzzDecodeNotification(f *testing.F) {
	for _, s := range []string{
		s3Event(s3Record("ObjectCreated:Put", "bkt", "a+b%2B")), snsWrap(s3Event(s3Record("ObjectCreated:Put", "bkt", "k"))),
		eventBridge("Object Created", "bkt", "k"), testEvent, snsWrap(testEvent), `{"s3Bucket":"bkt","s3ObjectKey":["k"]}`, "CloudTrail validation message.",
		fdrNotice, `{"bucket":"bkt","files":[{"path":"k","size":1,"checksum":"x"}]}`, `{"bucket":"bkt","pathPrefix":"p","files":[{"path":"p/../k"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := DecodeNotification(body)
		if err != nil {
			if !errors.Is(err, ErrInvalidNotification) {
				t.Fatalf("error %v does not wrap ErrInvalidNotification", err)
			}
			return
		}
		if n.Format == "" {
			t.Fatal("no format")
		}
		for _, o := range n.Objects {
			if ValidBucketName(o.Bucket) != nil || ValidKey(o.Key) != nil {
				t.Fatalf("unsafe object accepted: %+v", o)
			}
		}
		if n.Test && len(n.Objects) > 0 {
			t.Fatal("test event with objects")
		}
	})
}
