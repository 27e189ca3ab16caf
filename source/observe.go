package source

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/smithy-go"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/awserr"
)

// Default names of the sources in metrics and logs (Labels.Source and the
// "source" attribute), when their options leave Name empty.
const (
	DefaultSQSName    = "sqs"
	DefaultListName   = "list"
	DefaultDirName    = "dir"
	DefaultReaderName = "reader"
)

// flushEvery is how many records an object stream counts before it reports
// them to the Observer; the rest is reported when the object ends. Records
// are counted per object, not per record, to keep the Observer off the
// per-record path.
const flushEvery = 1024

// telemetry is where a source reports: its name, Observer and Logger.
type telemetry struct {
	name string
	obs  lakerelay.Observer
	log  *slog.Logger
}

func newTelemetry(name, def string, obs lakerelay.Observer, log *slog.Logger) *telemetry {
	if name == "" {
		name = def
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	} else if name != "" {
		log = log.With(slog.String("source", name))
	}
	return &telemetry{name: name, obs: lakerelay.ObserverOrNop(obs), log: log}
}

func (t *telemetry) labels() lakerelay.Labels { return lakerelay.Labels{Source: t.name} }

func (t *telemetry) count(metric string, n int64) {
	if n > 0 {
		t.obs.Count(metric, n, t.labels())
	}
}

func (t *telemetry) gauge(metric string, v float64) { t.obs.Gauge(metric, v, t.labels()) }

// records reports n records of size bytes read of a log type.
func (t *telemetry) records(logType string, n, bytes int64) {
	if n == 0 {
		return
	}
	l := lakerelay.Labels{Source: t.name, LogType: logType}
	t.obs.Count(lakerelay.MetricRecordsIn, n, l)
	t.obs.Count(lakerelay.MetricBytesIn, bytes, l)
}

// quarantined reports one record the source handed to the quarantine.
func (t *telemetry) quarantined(logType, class string) {
	t.obs.Count(lakerelay.MetricQuarantined, 1, lakerelay.Labels{Source: t.name, LogType: logType, Class: class})
}

// failed counts err in MetricErrors under its problem class.
func (t *telemetry) failed(err error) {
	t.obs.Count(lakerelay.MetricErrors, 1, lakerelay.Labels{Source: t.name, Class: problemClass(err)})
}

// warn counts err and logs it at Warn with what it names.
func (t *telemetry) warn(msg string, err error, attrs ...slog.Attr) {
	t.failed(err)
	t.logErr(slog.LevelWarn, msg, err, attrs...)
}

// logErr logs err at level with the bucket, key and message id it names
// and its problem class.
func (t *telemetry) logErr(level slog.Level, msg string, err error, attrs ...slog.Attr) {
	ctx := context.Background()
	if !t.log.Enabled(ctx, level) {
		return
	}
	var oe *ObjectError
	if errors.As(err, &oe) {
		if oe.Bucket != "" {
			attrs = append(attrs, slog.String("bucket", oe.Bucket))
		}
		attrs = append(attrs, slog.String("key", oe.Key))
		if oe.VersionID != "" {
			attrs = append(attrs, slog.String("version_id", oe.VersionID))
		}
	}
	var me *MessageError
	if errors.As(err, &me) {
		attrs = append(attrs, slog.String("message_id", me.MessageID))
	}
	attrs = append(attrs, slog.String("class", problemClass(err)), slog.Any("error", err))
	t.log.LogAttrs(ctx, level, msg, attrs...)
}

// failedWhat is the log message of an error Read returns: "record
// failed" for one record (an invalid record without a quarantine),
// otherwise whole.
func failedWhat(err error, whole string) string {
	if recordLevel(err) {
		return "record failed"
	}
	return whole
}

// debugOn reports whether Debug lines are logged; callers check it before
// building per-message or per-object attributes.
func (t *telemetry) debugOn() bool { return t.log.Enabled(context.Background(), slog.LevelDebug) }

func (t *telemetry) debug(msg string, attrs ...slog.Attr) {
	t.log.LogAttrs(context.Background(), slog.LevelDebug, msg, attrs...)
}

func (t *telemetry) info(msg string, attrs ...slog.Attr) {
	t.log.LogAttrs(context.Background(), slog.LevelInfo, msg, attrs...)
}

// problemClass returns the lakerelay.Class* problem class of an error of
// this package, as the sources report it in MetricErrors. The source's own
// errors come first: a message past MaxReceiveCount is ClassMaxReceive, a
// message body that cannot be decoded ClassDecode, a missing object or file
// ClassAccess, and a failed quarantine takes the class of the quarantine's
// error. AWS errors (also a failed batch entry) and the record errors
// (ClassTooLarge, ClassInvalid) then take the one mapping of
// awserr.ProblemClass; an error found while decoding an object that maps to
// nothing else is ClassDecode.
func problemClass(err error) string {
	var qe *quarantineError
	if errors.As(err, &qe) {
		return problemClass(qe.err)
	}
	switch {
	case errors.Is(err, ErrMaxReceiveCount):
		return lakerelay.ClassMaxReceive
	case errors.Is(err, ErrInvalidNotification):
		return lakerelay.ClassDecode
	case errors.Is(err, ErrNotFound):
		return lakerelay.ClassAccess
	}
	var be *BatchEntryError
	if errors.As(err, &be) {
		err = &smithy.GenericAPIError{Code: be.Code, Message: be.Message}
	}
	class := awserr.ProblemClass(err)
	var oe *ObjectError
	if class == lakerelay.ClassOther && errors.As(err, &oe) && oe.Offset >= 0 {
		return lakerelay.ClassDecode // found while decoding the object
	}
	return class
}
