// Package programtest has what the example programs' tests share: reading
// back the quarantine entries a program stored, and checking a queue.
package programtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakerelay/lakerelay/quarantine"
)

// QuarantineEntries returns every entry stored under prefix in bucket,
// decoded with quarantine's Entry type (a line that does not decode fails
// the test).
func QuarantineEntries(t testing.TB, c *s3.Client, bucket, prefix string) []quarantine.Entry {
	t.Helper()
	ctx := context.Background()
	var out []quarantine.Entry
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list s3://%s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: o.Key})
			if err != nil {
				t.Fatalf("get %s: %v", aws.ToString(o.Key), err)
			}
			out = append(out, Decode(t, g.Body, aws.ToString(o.Key))...)
			g.Body.Close()
		}
	}
	return out
}

// Decode reads NDJSON quarantine entries from r (named name in failures).
func Decode(t testing.TB, r io.Reader, name string) []quarantine.Entry {
	t.Helper()
	var out []quarantine.Entry
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<20)
	for n := 1; sc.Scan(); n++ {
		var e quarantine.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s line %d: not a quarantine entry: %v", name, n, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

// QueueEmpty fails the test unless the queue at url holds no message,
// neither visible nor in flight: every message was deleted.
func QueueEmpty(t testing.TB, c *sqs.Client, url string) {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &url,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatalf("attributes of %s: %v", url, err)
	}
	for _, a := range []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible} {
		if n := out.Attributes[string(a)]; n != "0" {
			t.Errorf("%s: %s %s, want 0", url, a, n)
		}
	}
}

// SetAside fails the test unless entries is the one entry of a message
// past --max-receive-count limit (received limit+1 times) that named the
// object bucket/key: the reason says so, the data is the message body.
func SetAside(t testing.TB, entries []quarantine.Entry, bucket, key, body string, limit int) {
	t.Helper()
	if len(entries) != 1 {
		t.Fatalf("%d quarantine entries, want 1: %+v", len(entries), entries)
	}
	e := entries[0]
	if e.Origin.Bucket != bucket || e.Origin.Key != key {
		t.Errorf("entry of s3://%s/%s, want s3://%s/%s", e.Origin.Bucket, e.Origin.Key, bucket, key)
	}
	reason := fmt.Sprintf("received more than MaxReceiveCount times: received %d times, limit %d", limit+1, limit)
	if !strings.Contains(e.Reason, reason) {
		t.Errorf("reason %q, want it to say %q", e.Reason, reason)
	}
	var got, want bytes.Buffer
	if json.Compact(&got, e.Data) != nil || json.Compact(&want, []byte(body)) != nil || got.String() != want.String() {
		t.Errorf("entry data %s, want the message body %s", e.Data, body)
	}
}
