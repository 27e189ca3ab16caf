//go:build benchprograms

package benchprograms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/ocsf"
	"github.com/lakerelay/lakerelay/quarantine"
	"github.com/lakerelay/lakerelay/sink"
	"github.com/lakerelay/lakerelay/sink/securitylake"
	"github.com/lakerelay/lakerelay/source"
)

// cloudTrailToLake is the primitive of the securitylake --mapper cloudtrail
// run: the packages the program wraps, called in sequence in one
// goroutine, doing the program's work on the same file. It reads the
// CloudTrail file with a source.Reader, maps each record with
// ocsf.MapCloudTrail, quarantines the events of other classes in a file,
// and writes each partition's API Activity events as one object with a
// securitylake.Sink into a directory, as the program does with the same
// flags. There is no batcher, no routing, no pipeline and no second core
// at work; the records are held until the input ends, as the program holds
// them (its batches, of 256 MB of input by default, are not full before).
// It checks that want records are read, and each written or quarantined.
func cloudTrailToLake(path, dir string, want int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	q, err := quarantine.OpenFile(filepath.Join(dir, "q.ndjson"))
	if err != nil {
		return err
	}
	defer q.Close(context.Background())
	out := filepath.Join(dir, "out")
	st, err := sink.NewDir(out)
	if err != nil {
		return err
	}
	written := 0
	s, err := securitylake.New(st, out, 6003, func(o *securitylake.Options) {
		o.Region, o.AccountID = "us-east-1", "123456789012"
		o.OnWrite = func(w securitylake.Written) { written += w.Records }
		o.Quarantine = func(r lakerelay.Record, reason error) error {
			q.Quarantine(r, reason)
			return nil
		}
	})
	if err != nil {
		return err
	}
	rd, err := source.NewReader(path, f)
	if err != nil {
		return err
	}
	defer rd.Close()
	ctx := context.Background()
	parts := map[string][]lakerelay.Record{}
	var order []string
	n := 0
	for {
		r, err := rd.Read(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		n++
		if r.Data, err = ocsf.MapCloudTrail(r.Data); err != nil {
			return fmt.Errorf("%s: %w", r.Origin, err)
		}
		p, err := s.Partition(r)
		if errors.Is(err, lakerelay.ErrInvalidRecord) {
			q.Quarantine(r, err) // an event of another class, as the program does
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", r.Origin, err)
		}
		if parts[p] == nil {
			order = append(order, p)
		}
		parts[p] = append(parts[p], r)
	}
	for _, p := range order {
		if err := s.WriteBatch(ctx, p, parts[p]); err != nil {
			return err
		}
	}
	if err := q.Close(ctx); err != nil {
		return err
	}
	if quarantined := int(q.Stats().Entries); n != want || written+quarantined != want {
		return fmt.Errorf("read %d records, wrote %d and quarantined %d, want %d in all", n, written, quarantined, want)
	}
	return nil
}
