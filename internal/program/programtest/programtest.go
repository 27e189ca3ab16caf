// Package programtest has what the example programs' tests share: reading
// back the quarantine entries a program stored.
package programtest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

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
