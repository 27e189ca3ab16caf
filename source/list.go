package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/awserr"
)

// ListOptions configure a [List].
type ListOptions struct {
	// StartAfter, when set, starts the listing after this key (to resume a
	// backfill).
	StartAfter string
	// PageSize is the number of keys per ListObjectsV2 call; 0 means 1000.
	PageSize int32
	// Decode says how objects are decoded.
	Decode DecodeOptions
	// IncludePrefixes and ExcludePrefixes select objects by key, as for
	// [SQSOptions].
	IncludePrefixes, ExcludePrefixes []string
	// LogTypes maps key prefixes to log types, as for [SQSOptions].
	LogTypes map[string]string
	// Tags label every record's origin, as for [SQSOptions].
	Tags Tags
	// Quarantine receives invalid records. When nil, Read returns them as
	// errors.
	Quarantine lakerelay.Quarantine
	// Name names the source in metrics (Labels.Source) and logs (the
	// "source" attribute); "" means DefaultListName ("list"). Give each source of a
	// program its own name.
	Name string
	// Logger receives the source's log lines (see the package
	// documentation, # Logs); nil means none. Record contents are never
	// logged.
	Logger *slog.Logger
	// Observer receives the source's metrics (see the package
	// documentation, # Metrics); nil means none.
	Observer lakerelay.Observer
	// ReadAhead is how many of the objects after the one Read is in may be
	// fetched and decoded ahead of Read, each by a goroutine of its own: a
	// backfill of many small objects (CloudTrail writes one every few
	// minutes per account and region) then waits for that many GetObject
	// calls at once instead of one, and uses more than one core. Each holds
	// at most two chunks of records (256 records or 256 KiB each) that Read
	// did not take yet, besides its decoder's buffers (about 2 MiB in all
	// per object, at most). Records still come in key order, an object's
	// errors where its records would have been, and LastKey names the
	// object Read is in; but an object's invalid records reach the
	// Quarantine as it is decoded, which may be before Read hands out the
	// records of the objects before it. 0 means 16; a negative value none.
	// The first object, and objects of more than 256 KiB, are fetched and
	// decoded by the goroutine calling Read (and the decompressing goroutine
	// of a compressed one) when Read gets to them; the small objects after
	// them are read ahead meanwhile.
	ReadAhead int
	// Archive, when set, copies every selected object, unchanged, to an
	// archive before it is read; a failed copy fails the object (Read
	// returns its error and none of its records). See [Archive].
	Archive *Archive
}

// List is a [lakerelay.Source] of the records of every object under a
// bucket and prefix, in key order (a backfill). Records have a nil Ack
// (unless DecodeOptions.ReuseData).
//
// Read returns io.EOF after the last object. An object that cannot be
// fetched or decoded makes Read return an *[ObjectError] naming it, and the
// next Read goes on with the next object; a listing error is returned as is
// and the next Read tries the same page again. [List.LastKey] tells where to
// resume.
//
// Small objects are fetched and decoded ahead of Read on other goroutines
// (see [ListOptions.ReadAhead]); Close stops them. A List is safe for
// concurrent use.
type List struct {
	mu      sync.Mutex
	client  S3API
	bucket  string
	prefix  string
	opts    ListOptions
	filter  keyFilter
	types   prefixMap
	keys    []ObjectRef
	token   *string
	started bool
	more    bool
	lastKey string
	closed  bool
	ended   bool // the end was logged
	down    bool // the listing failed with an error waiting cannot heal
	c       counters
	tel     *telemetry
	ahead   *ahead // objects decoded ahead of Read (ReadAhead)
	opened  bool   // an object was queued
}

// NewList returns a List over bucket and prefix.
func NewList(client S3API, bucket, prefix string, opts ...func(*ListOptions)) (*List, error) {
	var o ListOptions
	for _, f := range opts {
		f(&o)
	}
	errs := []error{o.Decode.Validate()}
	if client == nil {
		errs = append(errs, errors.New("source: NewList needs an S3 client"))
	}
	if err := ValidBucketName(bucket); err != nil {
		errs = append(errs, fmt.Errorf("source: %w", err))
	}
	if o.PageSize < 0 || o.PageSize > 1000 {
		errs = append(errs, fmt.Errorf("source: PageSize %d: want 0 to 1000", o.PageSize))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if o.PageSize == 0 {
		o.PageSize = 1000
	}
	l := &List{client: client, bucket: bucket, prefix: prefix, opts: o, lastKey: o.StartAfter,
		filter: keyFilter{include: o.IncludePrefixes, exclude: o.ExcludePrefixes}, types: newPrefixMap(o.LogTypes),
		tel: newTelemetry(o.Name, DefaultListName, o.Observer, o.Logger), ahead: newAhead(aheadCount(o.ReadAhead), aheadCount(o.ReadAhead))}
	l.tel.gauge(lakerelay.MetricSourceUp, 1)
	attrs := []slog.Attr{slog.String("bucket", bucket), slog.String("prefix", prefix), slog.String("start_after", o.StartAfter)}
	if o.Archive != nil {
		attrs = append(attrs, slog.String("archive", o.Archive.location(o.Archive.prefix)))
	}
	l.tel.info("list source started", attrs...)
	return l, nil
}

// Read returns the next record.
func (l *List) Read(ctx context.Context) (lakerelay.Record, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if l.closed {
			return lakerelay.Record{}, lakerelay.ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return lakerelay.Record{}, err
		}
		l.fill()
		if !l.ahead.empty() {
			ev := l.ahead.next(ctx)
			if ev.kind != aheadStopped {
				l.lastKey = ev.key
			}
			if rec, err, more := ev.take(&l.c, l.tel, "object", l.bucket); !more {
				return rec, err
			}
			continue
		}
		if l.started && !l.more {
			if !l.ended {
				l.ended = true
				st := l.c.snapshot()
				l.tel.info("list source finished", slog.String("bucket", l.bucket), slog.String("prefix", l.prefix),
					slog.Int64("objects", st.Objects), slog.Int64("records", st.Records), slog.Int64("errors", st.Errors))
			}
			return lakerelay.Record{}, io.EOF
		}
		if err := l.page(ctx); err != nil {
			if ctx.Err() != nil {
				return lakerelay.Record{}, err
			}
			l.c.errors.Add(1)
			l.tel.warn("listing failed", err, slog.String("bucket", l.bucket), slog.String("prefix", l.prefix))
			if in := awserr.Classify(err); !in.Retryable && in.Class != awserr.Unknown && in.Class != awserr.Canceled {
				l.down = true
				l.tel.gauge(lakerelay.MetricSourceUp, 0)
			}
			return lakerelay.Record{}, err
		}
		if l.down {
			l.down = false
			l.tel.gauge(lakerelay.MetricSourceUp, 1)
		}
	}
}

// fill queues the listed objects: the small ones are fetched and decoded
// ahead, the first and the large ones by Read; keys the filter skips keep
// their place. l.mu held.
func (l *List) fill() {
	for l.ahead.room() && len(l.keys) > 0 {
		ref := l.keys[0]
		l.keys = l.keys[1:]
		if !l.filter.selected(ref.Key) {
			l.ahead.add(ref.Key, nil, false)
			continue
		}
		inline := !l.opened || !aheadSmall(ref.Size)
		l.opened = true
		l.ahead.add(ref.Key, func(ctx context.Context) (*objectStream, io.Closer, error) {
			return l.open(ctx, ref)
		}, inline)
	}
}

// open archives ref (with ListOptions.Archive), fetches it and starts
// decoding it.
func (l *List) open(ctx context.Context, ref ObjectRef) (*objectStream, io.Closer, error) {
	if l.opts.Archive != nil {
		where, err := l.opts.Archive.copy(ctx, l.client, ref)
		if err != nil {
			return nil, nil, err
		}
		if l.tel.debugOn() {
			l.tel.debug("object archived", slog.String("bucket", ref.Bucket), slog.String("key", ref.Key), slog.String("archive", where))
		}
	}
	out, err := getObject(ctx, l.client, ref)
	if err != nil {
		return nil, nil, err
	}
	origin := tagged(lakerelay.Origin{Bucket: ref.Bucket, Key: ref.Key, LogType: l.types.lookup(ref.Key)}, l.opts.Tags)
	return newObjectStream(out.Body, l.opts.Decode, origin, l.opts.Quarantine, &l.c, l.tel), out.Body, nil
}

func (l *List) page(ctx context.Context) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(l.bucket), MaxKeys: aws.Int32(l.opts.PageSize)}
	if l.prefix != "" {
		in.Prefix = aws.String(l.prefix)
	}
	if l.token != nil {
		in.ContinuationToken = l.token
	} else if l.opts.StartAfter != "" {
		in.StartAfter = aws.String(l.opts.StartAfter)
	}
	out, err := l.client.ListObjectsV2(ctx, in)
	if err != nil {
		return fmt.Errorf("source: list s3://%s/%s: %w", l.bucket, l.prefix, err)
	}
	l.started = true
	l.more = aws.ToBool(out.IsTruncated) && out.NextContinuationToken != nil
	l.token = out.NextContinuationToken
	for _, o := range out.Contents {
		l.keys = append(l.keys, ObjectRef{Bucket: l.bucket, Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size)})
	}
	return nil
}

// LastKey returns the key of the last object started (or StartAfter): a
// backfill interrupted after it can resume with StartAfter set to the key
// before it.
func (l *List) LastKey() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastKey
}

// Stats returns the counters so far.
func (l *List) Stats() Stats { return l.c.snapshot() }

// Close stops the List and closes the open object; Read then returns
// lakerelay.ErrClosed. It is idempotent.
func (l *List) Close() error {
	// Stop the objects read ahead before taking l.mu: a Read waiting for
	// one holds it, and returns ErrClosed once stop began.
	l.ahead.stop()
	defer func() {
		l.ahead.wait()
		l.mu.Lock()
		l.ahead.drop()
		l.mu.Unlock()
	}()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		l.ahead.clear()
		st := l.c.snapshot()
		l.tel.info("list source stopped", slog.String("bucket", l.bucket), slog.String("prefix", l.prefix), slog.String("last_key", l.lastKey),
			slog.Int64("objects", st.Objects), slog.Int64("records", st.Records), slog.Int64("errors", st.Errors))
	}
	return nil
}

var _ lakerelay.Source = (*List)(nil)
