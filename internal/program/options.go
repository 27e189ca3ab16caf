package program

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/quarantine"
	"github.com/lakerelay/lakerelay/sink"
	"github.com/lakerelay/lakerelay/source"
)

// The option functions below give a component the program's Logger and
// Observer. Pass them before the program's own option functions, which may
// then override what they set. Sources are named after the program: their
// records feed the drop-off alarm and lakerelay_records_in_total{source=
// <program>}. The batcher, stores, sinks and quarantine keep their default
// names (batch, s3, dir, jsonl, securitylake, quarantine), so that each
// component's measurements stay apart. The Security Lake sink's is in
// package lakeenv, so that only the programs that write Parquet link
// arrow-go (its packages' initialisation costs every program that links
// them about 9 ms at start).

// SQS is an option function for source.NewSQS.
func (e *Env) SQS(o *source.SQSOptions) { o.Name, o.Logger, o.Observer = e.Name, e.Logger, e.Observer }

// List is an option function for source.NewList.
func (e *Env) List(o *source.ListOptions) {
	o.Name, o.Logger, o.Observer = e.Name, e.Logger, e.Observer
}

// Dir is an option function for source.NewDir.
func (e *Env) Dir(o *source.DirOptions) { o.Name, o.Logger, o.Observer = e.Name, e.Logger, e.Observer }

// Reader is an option function for source.NewReader.
func (e *Env) Reader(o *source.ReaderOptions) {
	o.Name, o.Logger, o.Observer = e.Name, e.Logger, e.Observer
}

// Batch is an option function for batch.New.
func (e *Env) Batch(o *batch.Options) {
	o.Logger, o.Observer, o.PartitionLabel = e.Logger, e.Observer, e.flags.MetricsPartitions
}

// S3Store is an option function for sink.NewS3.
func (e *Env) S3Store(o *sink.S3Options) { o.Logger, o.Observer = e.Logger, e.Observer }

// DirStore is an option function for sink.NewDir.
func (e *Env) DirStore(o *sink.DirOptions) { o.Logger, o.Observer = e.Logger, e.Observer }

// JSONL is an option function for sink.NewJSONL.
func (e *Env) JSONL(o *sink.JSONLOptions) {
	o.Logger, o.Observer, o.PartitionLabel = e.Logger, e.Observer, e.flags.MetricsPartitions
}

// MetricsPartitions reports --metrics-partitions: sinks label their
// records and bytes out with the partition (see lakeenv.Options).
func (e *Env) MetricsPartitions() bool { return e.flags.MetricsPartitions }

// Quarantine is an option function for quarantine.New, Open and OpenFile.
func (e *Env) Quarantine(o *quarantine.Options) { o.Logger, o.Observer = e.Logger, e.Observer }

// OpenArchive returns the raw archive at an --archive location: for
// s3://bucket/prefix an archive that copies each object server-side
// (source.NewS3Archive, through s3c), for a path a directory store the
// objects are streamed to (source.NewArchive); nil for "". Objects land at
// {prefix}/{bucket}/{key}.
func OpenArchive(location string, s3c source.ArchiveS3API, opts ...func(*sink.DirOptions)) (*source.Archive, error) {
	if location == "" {
		return nil, nil
	}
	if rest, ok := strings.CutPrefix(location, "s3://"); ok {
		bucket, prefix, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return nil, errors.New("--archive " + location + ": no bucket")
		}
		if s3c == nil {
			return nil, errors.New("--archive " + location + ": needs AWS settings")
		}
		a, err := source.NewS3Archive(s3c, bucket, prefix)
		if err != nil {
			return nil, errors.New("--archive " + location + ": " + err.Error())
		}
		return a, nil
	}
	if strings.Contains(location, "://") {
		return nil, errors.New("--archive " + location + ": want a path or s3://bucket/prefix")
	}
	d, err := sink.NewDir(location, opts...)
	if err != nil {
		return nil, errors.New("--archive " + location + ": " + err.Error())
	}
	return source.NewArchive(d, "")
}

// Outside returns an error naming flag when loc, the location given with it
// (--quarantine, --archive: a file, a directory or s3://bucket/prefix), lies
// under one of outputs, the Security Lake source locations a program writes
// to (directories or s3://bucket/prefix): Security Lake reads every object
// under a source location as Parquet of the source's schema. "" is no
// location. Local paths are compared absolute and cleaned; an S3 location
// is inside another when it is in the same bucket under its whole prefix.
func Outside(outputs []string, flag, loc string) error {
	if loc == "" {
		return nil
	}
	for _, out := range outputs {
		if out != "" && within(out, loc) {
			return fmt.Errorf("%s %s is inside the source location %s: Security Lake reads every object there as the source's Parquet; give a location outside it", flag, loc, out)
		}
	}
	return nil
}

// within reports whether location loc lies under location out.
func within(out, loc string) bool {
	const scheme = "s3://"
	s3Out, s3Loc := strings.HasPrefix(out, scheme), strings.HasPrefix(loc, scheme)
	switch {
	case s3Out && s3Loc:
		o := strings.TrimSuffix(strings.TrimPrefix(out, scheme), "/") + "/"
		l := strings.TrimSuffix(strings.TrimPrefix(loc, scheme), "/") + "/"
		return strings.HasPrefix(l, o)
	case s3Out || s3Loc:
		return false
	}
	o, err1 := filepath.Abs(out)
	l, err2 := filepath.Abs(loc)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(o, l)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
