package quarantine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/jsonscan"
	"github.com/lakerelay/lakerelay/internal/telemetry"
	"github.com/lakerelay/lakerelay/partition"
	"github.com/lakerelay/lakerelay/sink"
)

// Defaults for [Options].
const (
	DefaultMaxEntries       = 1000
	DefaultMaxBytes   int64 = 8 << 20
	DefaultMaxAge           = time.Second
	DefaultName             = "quarantine"
)

// Options configure a [Writer]. The zero value of a field means its
// default.
type Options struct {
	// MaxEntries is the most entries written in one object (or one fsync).
	MaxEntries int
	// MaxBytes is the most entry bytes written in one object.
	MaxBytes int64
	// MaxAge is the longest an entry given to Writer.Quarantine waits for
	// others before its batch is written. Writer.Put does not wait for it.
	MaxAge time.Duration
	// Now is the clock for entry times and object keys; nil means
	// time.Now.
	Now func() time.Time
	// Logger receives the Writer's structured log: Info when it opens and
	// closes, Warn for each batch of entries that could not be made
	// durable (location, entries, error: those records stay
	// redeliverable), Debug for each batch written (location, entries,
	// bytes, duration). Never record contents. nil means no log.
	Logger *slog.Logger
	// Observer receives [lakerelay.MetricRecordsOut] for each entry made
	// durable and [lakerelay.MetricBytesOut] for its bytes (Source Name,
	// the record's LogType): the quarantine is a sink of entries. The
	// records set aside are counted in [lakerelay.MetricQuarantined] by the
	// component that set them aside (a source, batch.Run, a sink), once.
	// [lakerelay.MetricErrors] counts each failed write (Class of the store
	// error). The Observer and Logger are also given to the store that
	// [Open] builds. nil means none.
	Observer lakerelay.Observer
	// Name is the Source label of the measurements and the "component"
	// attribute of the log; default [DefaultName].
	Name string
}

// Validate reports every problem with o.
func (o Options) Validate() error {
	var errs []error
	if o.MaxEntries < 0 {
		errs = append(errs, fmt.Errorf("quarantine: Options.MaxEntries: must be >= 0 (got %d)", o.MaxEntries))
	}
	if o.MaxBytes < 0 {
		errs = append(errs, fmt.Errorf("quarantine: Options.MaxBytes: must be >= 0 (got %d)", o.MaxBytes))
	}
	if o.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("quarantine: Options.MaxAge: must be >= 0 (got %s)", o.MaxAge))
	}
	return errors.Join(errs...)
}

// Entry is one line of a quarantine.
type Entry struct {
	// Time is when the record was quarantined (UTC, RFC 3339).
	Time time.Time `json:"time"`
	// Reason is why: the error the record was rejected with.
	Reason string `json:"reason"`
	Origin Origin `json:"origin"`
	// Data is the record: itself if it is a JSON object or array
	// (compacted), else a JSON string.
	// It is empty when DataBase64 is set.
	Data json.RawMessage `json:"data,omitempty"`
	// DataBase64 holds a record that is not valid UTF-8, byte for byte.
	DataBase64 []byte `json:"data_base64,omitempty"`
}

// Origin is where a quarantined record came from; see [lakerelay.Origin].
type Origin struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"version_id,omitempty"`
	Index     int64  `json:"index"`
	Offset    int64  `json:"offset"`
	LogType   string `json:"log_type"`
}

// Record returns the record's bytes as they were quarantined.
func (e Entry) Record() ([]byte, error) {
	if e.DataBase64 != nil {
		return e.DataBase64, nil
	}
	if len(e.Data) > 0 && e.Data[0] == '"' {
		var s string
		if err := json.Unmarshal(e.Data, &s); err != nil {
			return nil, err
		}
		return []byte(s), nil
	}
	return e.Data, nil
}

// appendEntry appends the entry of r, ending in "\n", to dst: the JSON
// encoding/json gives an Entry with SetEscapeHTML(false), written in one
// pass with the project's JSON scanner (quarantining a quarter of a large
// input must not cost more than delivering it). reason is the reason's
// message (see why).
func appendEntry(dst []byte, now time.Time, r lakerelay.Record, reason string) []byte {
	dst = append(dst, `{"time":"`...)
	dst = now.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","reason":`...)
	dst = jsonscan.AppendString(dst, []byte(reason))
	o := r.Origin
	dst = append(dst, `,"origin":{"bucket":`...)
	dst = jsonscan.AppendString(dst, []byte(o.Bucket))
	dst = append(dst, `,"key":`...)
	dst = jsonscan.AppendString(dst, []byte(o.Key))
	if o.VersionID != "" {
		dst = append(dst, `,"version_id":`...)
		dst = jsonscan.AppendString(dst, []byte(o.VersionID))
	}
	dst = append(dst, `,"index":`...)
	dst = strconv.AppendInt(dst, o.Index, 10)
	dst = append(dst, `,"offset":`...)
	dst = strconv.AppendInt(dst, o.Offset, 10)
	dst = append(dst, `,"log_type":`...)
	dst = jsonscan.AppendString(dst, []byte(o.LogType))
	dst = append(dst, '}')
	switch {
	case !utf8.Valid(r.Data):
		dst = append(dst, `,"data_base64":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, r.Data)
		dst = append(dst, '"')
	default:
		// Without HTML escaping, documents (JSON objects and arrays) are
		// kept as they came (compacted); anything else is a string, so
		// that Entry.Record can tell a JSON scalar such as "x" from text.
		dst = append(dst, `,"data":`...)
		switch {
		case !isDocumentStart(r.Data):
			dst = jsonscan.AppendString(dst, r.Data) // valid UTF-8: as it is
		case r.JSON:
			dst = append(dst, r.Data...) // the source checked: compact JSON
		default:
			dst = jsonscan.AppendValue(dst, r.Data, jsonscan.DefaultMaxDepth) // or a string, if not JSON
		}
	}
	return append(dst, "}\n"...)
}

// why is the reason of an entry: reason's message, or "" for nil.
func why(reason error) string {
	if reason == nil {
		return ""
	}
	return reason.Error()
}

// isDocumentStart reports whether data, after whitespace, starts like a
// JSON object or array.
func isDocumentStart(data []byte) bool {
	d := bytes.TrimLeft(data, " \t\r\n")
	return len(d) > 0 && (d[0] == '{' || d[0] == '[')
}

// Error reports that entries could not be made durable. The records they
// were for are not quarantined: Writer.Quarantine settles them with it, so
// their source keeps them redeliverable.
type Error struct {
	// Location is where the entries were to go: "s3://bucket/key", a
	// directory path or a file path.
	Location string
	// Entries is how many entries the failed write held.
	Entries int
	Err     error
}

func (e *Error) Error() string {
	return fmt.Sprintf("quarantine: write %d entries to %s: %v", e.Entries, e.Location, e.Err)
}

// Unwrap returns the cause (a *sink.StoreError, an *os.PathError, a ctx
// error or lakerelay.ErrClosed).
func (e *Error) Unwrap() error { return e.Err }

// backend makes a batch of entries durable. write does not keep lines
// once it returns: the Writer reuses them.
type backend interface {
	write(ctx context.Context, now time.Time, lines []byte, n int) (location string, err error)
	location() string
	close() error
}

// pending is an entry waiting to be written.
type pending struct {
	line    []byte
	done    func(error)
	logType string // of the record, for the metric
}

// Writer writes quarantine entries. See the package documentation for the
// format and the guarantees.
type Writer struct {
	b    backend
	opts Options
	tel  telemetry.T

	ctx    context.Context // of the writes; canceled when Close gives up
	cancel context.CancelFunc
	kick   chan struct{}
	exited chan struct{}

	mu       sync.Mutex
	queue    []pending
	bytes    int64
	timer    *time.Timer
	first    time.Time // when the oldest queued entry was queued
	closed   bool
	urgent   bool
	queued   uint64        // entries ever queued
	written  uint64        // entries ever settled (durable or failed)
	progress chan struct{} // closed and replaced whenever written moves
	stats    Stats

	lines []byte // the run goroutine's buffer of a batch, reused
}

// Stats counts what a Writer did.
type Stats struct {
	// Entries is the number of entries made durable.
	Entries int64 `json:"entries"`
	// Writes is the number of objects stored (or fsyncs).
	Writes int64 `json:"writes"`
	// Failed is the number of entries that could not be made durable.
	Failed int64 `json:"failed"`
}

func newWriter(b backend, opts []func(*Options)) (*Writer, error) {
	var o Options
	for _, f := range opts {
		f(&o)
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.MaxEntries == 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	tel := telemetry.New(o.Logger, o.Observer, o.Name, DefaultName)
	o.Name = tel.Name
	w := &Writer{b: b, opts: o, tel: tel, kick: make(chan struct{}, 1), exited: make(chan struct{}), progress: make(chan struct{})}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	go w.run()
	w.tel.Log.Info("quarantine opened", "location", b.location())
	return w, nil
}

// New returns a Writer that stores batches of entries as objects under
// prefix ("" for the store's root) in store. The prefix is validated as
// object key segments (see partition.ValidateKey).
func New(store sink.Store, prefix string, opts ...func(*Options)) (*Writer, error) {
	if store == nil {
		return nil, errors.New("quarantine: New needs a store")
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		if err := partition.ValidateKey(prefix + "/"); err != nil {
			return nil, fmt.Errorf("quarantine: prefix: %w", err)
		}
	}
	return newWriter(&storeBackend{store: store, prefix: prefix}, opts)
}

// OpenFile returns a Writer that appends entries to the file at path,
// creating it (mode 0o600) and its directory if needed, and fsyncs the file
// after every batch before any record of it is reported durable.
func OpenFile(path string, opts ...func(*Options)) (*Writer, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	w, err := newWriter(&fileBackend{f: f, path: path}, opts)
	if err != nil {
		f.Close()
	}
	return w, err
}

// Open returns a Writer for location, as a --quarantine flag gives it:
//
//   - "s3://bucket/prefix": objects under prefix in bucket, through s3c
//     (which must not be nil then);
//   - an existing directory, or a path ending in "/": objects in that
//     directory (created if needed), see [sink.NewDir];
//   - any other path: one append-only file, see [OpenFile].
func Open(location string, s3c sink.S3API, opts ...func(*Options)) (*Writer, error) {
	var o Options
	for _, f := range opts {
		f(&o)
	}
	if rest, ok := strings.CutPrefix(location, "s3://"); ok {
		bucket, prefix, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return nil, fmt.Errorf("quarantine: location %q: no bucket", location)
		}
		if s3c == nil {
			return nil, fmt.Errorf("quarantine: location %q needs an S3 client", location)
		}
		st, err := sink.NewS3(s3c, bucket, func(so *sink.S3Options) { so.Logger, so.Observer = o.Logger, o.Observer })
		if err != nil {
			return nil, fmt.Errorf("quarantine: location %q: %w", location, err)
		}
		return New(st, prefix, opts...)
	}
	if location == "" {
		return nil, errors.New("quarantine: empty location")
	}
	if strings.Contains(location, "://") {
		return nil, fmt.Errorf("quarantine: location %q: want s3://bucket/prefix or a local path", location)
	}
	if fi, err := os.Stat(location); err == nil && fi.IsDir() || strings.HasSuffix(location, "/") || strings.HasSuffix(location, string(os.PathSeparator)) {
		if err := os.MkdirAll(location, 0o750); err != nil {
			return nil, fmt.Errorf("quarantine: %w", err)
		}
		st, err := sink.NewDir(location, func(do *sink.DirOptions) { do.Logger, do.Observer = o.Logger, o.Observer })
		if err != nil {
			return nil, fmt.Errorf("quarantine: location %q: %w", location, err)
		}
		return New(st, "", opts...)
	}
	return OpenFile(location, opts...)
}

// Location names where entries go: s3://bucket/prefix, a directory or a
// file path.
func (w *Writer) Location() string { return w.b.location() }

// Stats returns the counters so far.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Quarantine takes r over and settles it exactly once: with nil once its
// entry (reason and origin, never changed) is durable, or with an [*Error]
// if the write failed or the Writer was closed, so that its source keeps it
// redeliverable. It does not block: entries are written in batches (see
// [Options]). Use it where records arrive quickly; the batch package's Run
// does.
func (w *Writer) Quarantine(r lakerelay.Record, reason error) {
	w.add(w.pending(r, reason, r.Settle), false)
}

// pending returns the entry of r for the queue.
func (w *Writer) pending(r lakerelay.Record, reason error, done func(error)) pending {
	// One allocation for the entry unless something needs escaping: room
	// for the reason, data and origin as they are and the fixed parts.
	o, msg := r.Origin, why(reason)
	size := entryFixed + len(msg) + len(r.Data) + len(o.Bucket) + len(o.Key) + len(o.VersionID) + len(o.LogType)
	return pending{line: appendEntry(make([]byte, 0, size), w.opts.Now(), r, msg), done: done,
		logType: r.Origin.LogType}
}

// entryFixed is the room an entry takes beyond its strings: member names,
// quotes and punctuation, the time and two numbers (under 200 bytes).
const entryFixed = 200

// Put writes the entry of r and returns nil once it is durable, or an
// [*Error]. It does not settle r; it has the signature of a
// [lakerelay.Quarantine], so w.Put can be given to sources and sinks that
// take one. It does not wait for MaxAge: its entry and those queued with it
// are written at once (concurrent calls share a write).
func (w *Writer) Put(r lakerelay.Record, reason error) error {
	done := make(chan error, 1)
	w.add(w.pending(r, reason, func(err error) { done <- err }), true)
	return <-done
}

var _ lakerelay.Quarantine = (*Writer)(nil).Put

func (w *Writer) add(p pending, urgent bool) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		p.done(&Error{Location: w.b.location(), Entries: 1, Err: lakerelay.ErrClosed})
		return
	}
	if len(w.queue) == 0 {
		w.first = time.Now()
	}
	w.queue = append(w.queue, p)
	w.bytes += int64(len(p.line))
	w.queued++
	kick := urgent || len(w.queue) >= w.opts.MaxEntries || w.bytes >= w.opts.MaxBytes
	if urgent {
		w.urgent = true
	}
	if !kick && w.timer == nil {
		w.timer = time.AfterFunc(w.opts.MaxAge, w.wake)
	}
	w.mu.Unlock()
	if kick {
		w.wake()
	}
}

func (w *Writer) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// run writes batches until Close.
func (w *Writer) run() {
	defer close(w.exited)
	for range w.kick {
		for {
			w.mu.Lock()
			if w.timer != nil {
				w.timer.Stop()
				w.timer = nil
			}
			full := len(w.queue) >= w.opts.MaxEntries || w.bytes >= w.opts.MaxBytes
			wait := w.opts.MaxAge - time.Since(w.first)
			if len(w.queue) == 0 || !(full || w.urgent || w.closed || wait <= 0) {
				if len(w.queue) > 0 {
					w.timer = time.AfterFunc(wait, w.wake)
				}
				closed := w.closed && len(w.queue) == 0
				w.mu.Unlock()
				if closed {
					return
				}
				break
			}
			batch, size := w.take()
			w.mu.Unlock()
			w.write(batch, size)
		}
	}
}

// take removes up to MaxEntries / MaxBytes of entries from the queue.
func (w *Writer) take() ([]pending, int64) {
	n, size := 0, int64(0)
	for n < len(w.queue) && n < w.opts.MaxEntries && (n == 0 || size+int64(len(w.queue[n].line)) <= w.opts.MaxBytes) {
		size += int64(len(w.queue[n].line))
		n++
	}
	batch := w.queue[:n:n]
	w.queue = w.queue[n:]
	w.bytes -= size
	w.first = time.Now() // what is left waits at most MaxAge more
	if len(w.queue) == 0 {
		w.urgent = false
	}
	return batch, size
}

func (w *Writer) write(batch []pending, size int64) {
	// The buffer is kept for the next batch (the backends are done with it
	// when they return) unless it outgrew MaxBytes for one large entry: a
	// quarantine of many entries would otherwise take a batch of fresh
	// memory each write.
	buf := slices.Grow(w.lines[:0], int(size))
	for _, p := range batch {
		buf = append(buf, p.line...)
	}
	w.lines = nil
	if size <= w.opts.MaxBytes {
		w.lines = buf
	}
	start := time.Now()
	loc, err := w.b.write(w.ctx, w.opts.Now(), buf, len(batch))
	if err != nil {
		w.tel.Error(err)
		w.tel.Log.Warn("quarantine write failed, records stay redeliverable", "location", loc, "entries", len(batch), "error", err)
		err = &Error{Location: loc, Entries: len(batch), Err: err}
	} else {
		for _, p := range batch {
			l := lakerelay.Labels{Source: w.opts.Name, LogType: p.logType}
			w.tel.Obs.Count(lakerelay.MetricRecordsOut, 1, l)
			w.tel.Obs.Count(lakerelay.MetricBytesOut, int64(len(p.line)), l)
		}
		w.tel.Log.Debug("quarantine entries written", "location", loc, "entries", len(batch), "bytes", size, "duration", time.Since(start))
	}
	w.mu.Lock()
	if err != nil {
		w.stats.Failed += int64(len(batch))
	} else {
		w.stats.Entries += int64(len(batch))
		w.stats.Writes++
	}
	w.mu.Unlock()
	for _, p := range batch {
		p.done(err)
	}
	w.mu.Lock()
	w.written += uint64(len(batch))
	close(w.progress)
	w.progress = make(chan struct{})
	w.mu.Unlock()
}

// Flush writes every entry queued so far and waits until each is settled
// (durable or failed). It returns ctx's error if ctx ends first; the
// entries are still written.
func (w *Writer) Flush(ctx context.Context) error {
	w.mu.Lock()
	target := w.queued
	w.urgent = w.urgent || len(w.queue) > 0
	w.mu.Unlock()
	w.wake()
	for {
		w.mu.Lock()
		done, progress := w.written >= target, w.progress
		w.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-progress:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close writes every queued entry, stops the Writer and closes its file.
// Later calls to Quarantine and Put fail with an *Error wrapping
// lakerelay.ErrClosed. If ctx ends first, the write in progress is canceled
// and every entry not yet durable is settled with an error (its record stays
// redeliverable). Close is idempotent.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	first := !w.closed
	w.closed = true
	w.mu.Unlock()
	w.wake()
	var err error
	select {
	case <-w.exited:
	case <-ctx.Done():
		w.cancel()
		<-w.exited
		err = ctx.Err()
	}
	w.cancel()
	if first {
		if cerr := w.b.close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("quarantine: close %s: %w", w.b.location(), cerr))
		}
		st := w.Stats()
		if err != nil {
			w.tel.Log.Error("quarantine closed", "location", w.b.location(), "entries", st.Entries, "failed", st.Failed, "error", err)
		} else {
			w.tel.Log.Info("quarantine closed", "location", w.b.location(), "entries", st.Entries, "failed", st.Failed)
		}
	}
	return err
}

// storeBackend writes a batch as one object.
type storeBackend struct {
	store  sink.Store
	prefix string
}

func (s *storeBackend) key(now time.Time) string {
	var id [8]byte
	_, _ = rand.Read(id[:])
	now = now.UTC()
	k := now.Format("2006/01/02/20060102T150405.000000000Z") + "-" + hex.EncodeToString(id[:]) + ".ndjson"
	if s.prefix != "" {
		k = s.prefix + "/" + k
	}
	return k
}

func (s *storeBackend) write(ctx context.Context, now time.Time, lines []byte, _ int) (string, error) {
	key := s.key(now)
	return s.store.Location(key), s.store.Put(ctx, key, bytes.NewReader(lines), sink.PutOptions{ContentType: "application/x-ndjson"})
}

func (s *storeBackend) location() string { return strings.TrimSuffix(s.store.Location(s.prefix), "/") }
func (s *storeBackend) close() error     { return nil }

// fileBackend appends a batch to one file and fsyncs it.
type fileBackend struct {
	f    *os.File
	path string
	mu   sync.Mutex
}

func (b *fileBackend) write(_ context.Context, _ time.Time, lines []byte, _ int) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fi, err := b.f.Stat()
	if err != nil {
		return b.path, err
	}
	before := fi.Size()
	if _, err = b.f.Write(lines); err == nil {
		err = b.f.Sync()
	}
	if err != nil {
		// Leave no partial line for the next append to run into.
		if terr := b.f.Truncate(before); terr != nil {
			err = errors.Join(err, fmt.Errorf("truncate after failed write: %w", terr))
		}
		return b.path, err
	}
	return b.path, nil
}

func (b *fileBackend) location() string { return b.path }
func (b *fileBackend) close() error     { return b.f.Close() }
