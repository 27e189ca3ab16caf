package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.uber.org/goleak"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

// dirTree writes files that exercise every way a file can end: records in
// many chunks, an invalid line (a record-level error), a corrupt gzip stream
// after records, an empty file and one removed after the walk; and a file
// too large to be decoded ahead, between small ones.
func dirTree(t *testing.T) (root string) {
	t.Helper()
	root = t.TempDir()
	write := func(rel string, data []byte) { writeTreeFile(t, root, rel, data) }
	write("0/first.json", []byte("{\"first\":1}\n"))
	var large strings.Builder
	for i := 0; large.Len() <= aheadMaxSize; i++ {
		fmt.Fprintf(&large, "{\"large\":%d}\n", i)
	}
	write("h/large.json", []byte(large.String()))
	write("i/after-large.json", []byte("{\"after\":1}\n"))
	var big strings.Builder
	for i := range 3*aheadChunkRecords + 7 {
		fmt.Fprintf(&big, "{\"big\":%d}\n", i)
	}
	write("a/big.json.gz", gz(t, big.String()))
	for i := range 40 {
		write(fmt.Sprintf("b/%02d.json.gz", i), gz(t, fmt.Sprintf("{\"f\":%d,\"n\":1}\n{\"f\":%d,\"n\":2}\n", i, i)))
	}
	write("c/invalid.json", []byte("{\"ok\":1}\n{\"broken\n{\"ok\":2}\n"))
	// A gzip stream cut short after its first records.
	whole := gz(t, strings.Repeat("{\"cut\":true}\n", 5000))
	write("d/cut.json.gz", whole[:len(whole)/2])
	write("e/empty.json", nil)
	write("f/gone.json", []byte("{\"gone\":1}\n"))
	write("g/last.json", []byte("{\"last\":1}\n"))
	return root
}

// writeTreeFile writes data to the file rel under root, making its
// directories.
func writeTreeFile(t *testing.T, root, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// recordLine is how the read-ahead tests compare records: origin and data.
func recordLine(r lakerelay.Record) string {
	return fmt.Sprintf("%s#%d@%d %s", r.Origin.Key, r.Origin.Index, r.Origin.Offset, r.Data)
}

// readDir reads every record and error of a Dir built with ReadAhead n,
// one line each.
func readDir(t *testing.T, root, removed string, n int) ([]string, Stats) {
	t.Helper()
	d, err := NewDir(root, func(o *DirOptions) {
		o.Decode.StreamType = NDJSON
		o.ReadAhead = n
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if removed != "" {
		if err := os.Remove(removed); err != nil {
			t.Fatal(err)
		}
	}
	var out []string
	for {
		r, err := d.Read(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			out = append(out, "error: "+err.Error())
			continue
		}
		out = append(out, recordLine(r))
	}
	return out, d.Stats()
}

// TestDirReadAhead shows that decoding files ahead of Read changes nothing
// a reader sees: the same records, errors and counts in the same order as
// without read-ahead, with any number of files ahead.
func TestDirReadAhead(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	root := dirTree(t)
	gone := filepath.Join(root, "f/gone.json")
	data, _ := os.ReadFile(gone)
	want, wantStats := readDir(t, root, gone, -1)
	if len(want) < 3*aheadChunkRecords+80+aheadMaxSize/20 {
		t.Fatalf("%d lines read without read-ahead", len(want))
	}
	var errs []string
	for _, l := range want {
		if strings.HasPrefix(l, "error: ") {
			errs = append(errs, l)
		}
	}
	if len(errs) != 3 || !strings.Contains(errs[0], "invalid.json") || !strings.Contains(errs[1], "cut.json.gz") || !strings.Contains(errs[2], "gone.json") {
		t.Fatalf("errors without read-ahead: %q", errs)
	}
	for _, n := range []int{1, 2, 4, 100} {
		if err := os.WriteFile(gone, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, st := readDir(t, root, gone, n)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("ReadAhead %d: %d lines, want %d; first difference at %d", n, len(got), len(want), firstDiff(got, want))
		}
		if st != wantStats {
			t.Fatalf("ReadAhead %d: stats %+v, want %+v", n, st, wantStats)
		}
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestDirReadAheadCancelAndClose: a Read whose context ends returns its
// error and loses nothing (the next Read goes on where it was); Close in
// the middle of the files stops every goroutine decoding ahead, and Read
// then returns ErrClosed.
func TestDirReadAheadCancelAndClose(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	root := dirTree(t)
	want, _ := readDir(t, root, "", -1)

	d, err := NewDir(root, func(o *DirOptions) {
		o.Decode.StreamType = NDJSON
		o.ReadAhead = 4
	})
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	var got []string
	for i := 0; ; i++ {
		ctx := context.Background()
		if i%7 == 3 {
			if _, err := d.Read(cancelled); !errors.Is(err, context.Canceled) {
				t.Fatalf("Read with a cancelled context: %v", err)
			}
		}
		r, err := d.Read(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			got = append(got, "error: "+err.Error())
			continue
		}
		got = append(got, recordLine(r))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("with cancelled Reads: first difference at %d", firstDiff(got, want))
	}
	d.Close()

	// Close while files are being decoded ahead: past the first file, in
	// the middle of the small ones.
	d, err = NewDir(root, func(o *DirOptions) {
		o.Decode.StreamType = NDJSON
		o.ReadAhead = 4
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 1 + 3*aheadChunkRecords + 7 + 10 {
		if _, err := d.Read(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Read(context.Background()); !errors.Is(err, lakerelay.ErrClosed) {
		t.Fatalf("Read after Close: %v", err)
	}

	// Close from another goroutine while Reads go on: they end with
	// ErrClosed (or io.EOF, when they got to the end first), and nothing
	// is left running.
	for _, after := range []int{0, 5, 3*aheadChunkRecords + 20, 3*aheadChunkRecords + 70, 3*aheadChunkRecords + 100 + aheadMaxSize/20} {
		d, err = NewDir(root, func(o *DirOptions) {
			o.Decode.StreamType = NDJSON
			o.ReadAhead = 3
		})
		if err != nil {
			t.Fatal(err)
		}
		read := make(chan int)
		ended := make(chan error, 1)
		go func() {
			for n := 0; ; n++ {
				if n == after {
					close(read)
				}
				if _, err := d.Read(context.Background()); errors.Is(err, lakerelay.ErrClosed) || err == io.EOF {
					ended <- err
					return
				}
			}
		}()
		<-read
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-ended; !errors.Is(err, lakerelay.ErrClosed) && err != io.EOF {
			t.Fatalf("Close after %d reads: Read ended with %v", after, err)
		}
	}
}

var requestID = regexp.MustCompile(`RequestID: [^,]*,`)

// missingS3 asks MinIO for a key that does not exist instead of gone: the
// object was listed, then deleted before it was read.
type missingS3 struct {
	S3API
	gone string
}

func (m missingS3) GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if aws.ToString(in.Key) == m.gone {
		in.Key = aws.String(m.gone + ".deleted")
	}
	return m.S3API.GetObject(ctx, in, optFns...)
}

// TestListReadAhead is TestDirReadAhead for a List on MinIO: the same tree
// of objects (and a prefix the filter skips, and an object deleted after
// the listing), listed a few keys per page, read with read-ahead 1, 2, 4
// and 100 gives the same records, errors, counts and LastKey after every
// Read as without.
func TestListReadAhead(t *testing.T) {
	m := testenv.StartMinIO(t)
	c := m.S3(t)
	bucket := m.NewBucket(t)
	root := dirTree(t)
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		_, err = c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("tree/" + filepath.ToSlash(rel)), Body: bytes.NewReader(data)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tree/b/05-skip.json", "tree/z-skip/last"} {
		if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(k), Body: strings.NewReader("{}\n")}); err != nil {
			t.Fatal(err)
		}
	}
	read := func(n int) (lines []string, st Stats) {
		l, err := NewList(missingS3{c, "tree/f/gone.json"}, bucket, "tree/", func(o *ListOptions) {
			o.Decode.StreamType = NDJSON
			o.PageSize = 7
			o.ExcludePrefixes = []string{"tree/b/05-skip", "tree/z-skip/"}
			o.ReadAhead = n
		})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		for {
			r, err := l.Read(context.Background())
			if err == io.EOF {
				return append(lines, "end, last key "+l.LastKey()), l.Stats()
			}
			if err != nil {
				// The request id differs from run to run.
				msg := requestID.ReplaceAllString(err.Error(), "RequestID: …,")
				lines = append(lines, "error: "+msg+", last key "+l.LastKey())
				continue
			}
			lines = append(lines, recordLine(r)+", last key "+l.LastKey())
		}
	}
	want, wantStats := read(-1)
	var errs int
	for _, l := range want {
		if strings.HasPrefix(l, "error: ") {
			errs++
		}
	}
	if errs != 3 || wantStats.NotFound != 1 || wantStats.Skipped != 2 || want[len(want)-1] != "end, last key tree/z-skip/last" {
		t.Fatalf("without read-ahead: %d errors, stats %+v, %q", errs, wantStats, want[len(want)-1])
	}
	for _, n := range []int{1, 2, 4, 100} {
		got, st := read(n)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			i := firstDiff(got, want)
			t.Fatalf("ReadAhead %d: %d lines, want %d; at %d: %q, want %q", n, len(got), len(want), i, got[min(i, len(got)-1)], want[min(i, len(want)-1)])
		}
		if st != wantStats {
			t.Fatalf("ReadAhead %d: stats %+v, want %+v", n, st, wantStats)
		}
	}

	// Close while objects are fetched ahead: nothing is left running.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"), goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"))
	l, err := NewList(c, bucket, "tree/", func(o *ListOptions) { o.Decode.StreamType = NDJSON })
	if err != nil {
		t.Fatal(err)
	}
	for range 1 + 3*aheadChunkRecords + 7 + 10 {
		if _, err := l.Read(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	if _, err := l.Read(context.Background()); !errors.Is(err, lakerelay.ErrClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
}
