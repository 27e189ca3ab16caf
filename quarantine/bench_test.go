package quarantine

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lakerelay/lakerelay"
)

// BenchmarkFileWriter quarantines 4096 records of 2.7 KB (the size of a
// mapped CloudTrail event, marked compact JSON) into a file and waits
// until they are durable, next to the primitive: the same entries appended
// to a buffer and written to a file in 8 MiB batches, each fsynced, as the
// Writer's default MaxBytes batches them.
func BenchmarkFileWriter(b *testing.B) {
	const n = 4096
	data := append([]byte(`{"class_uid":3002,"unmapped":"`), bytes.Repeat([]byte("x"), 2650)...)
	data = append(data, `"}`...)
	rec := lakerelay.Record{Data: data, JSON: true, Origin: lakerelay.Origin{Key: "AWSLogs/1/CloudTrail/x.json.gz", Index: 7, Offset: 1436, LogType: "cloudtrail"}}
	reason := errors.New("securitylake: record of another OCSF class: class_uid 3002, this sink takes 6003")
	var size int64
	for range n {
		size += int64(len(appendEntry(nil, time.Now(), rec, why(reason))))
	}
	dir := b.TempDir()
	b.Run("lakerelay", func(b *testing.B) {
		b.SetBytes(size)
		path := filepath.Join(dir, "q.ndjson")
		w, err := OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		defer w.Close(context.Background())
		for b.Loop() {
			for range n {
				w.Quarantine(rec, reason)
			}
			if err := w.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if err := os.Truncate(path, 0); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		if st := w.Stats(); st.Failed != 0 {
			b.Fatalf("stats %+v", st)
		}
	})
	b.Run("primitive", func(b *testing.B) {
		b.SetBytes(size)
		f, err := os.Create(filepath.Join(dir, "p.ndjson"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		var buf []byte
		for b.Loop() {
			write := func() {
				if _, err := f.Write(buf); err != nil {
					b.Fatal(err)
				}
				if err := f.Sync(); err != nil {
					b.Fatal(err)
				}
				buf = buf[:0]
			}
			for range n {
				buf = appendEntry(buf, time.Now(), rec, why(reason))
				if int64(len(buf)) >= DefaultMaxBytes {
					write()
				}
			}
			write()
			b.StopTimer()
			if err := f.Truncate(0); err != nil {
				b.Fatal(err)
			}
			if _, err := f.Seek(0, 0); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	})
}
