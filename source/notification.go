package source

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Notification formats reported in [Notification.Format].
const (
	FormatS3          = "s3"          // S3 event notification ({"Records":[...]})
	FormatEventBridge = "eventbridge" // EventBridge event from aws.s3
	FormatCloudTrail  = "cloudtrail"  // CloudTrail's own notice ({"s3Bucket":..,"s3ObjectKey":[..]})
	FormatTest        = "test"        // s3:TestEvent or CloudTrail's validation message
	// FormatFDR is CrowdStrike Falcon Data Replicator's own notice
	// ({"bucket":..,"pathPrefix":..,"files":[{"path":..,"size":..,"checksum":..}]}).
	FormatFDR = "crowdstrike-fdr"
	// FormatSNSPrefix is prepended to the format of a notification that came
	// inside an SNS envelope, for example "sns+s3".
	FormatSNSPrefix = "sns+"
)

// Notification is what one SQS message body announces.
type Notification struct {
	// Format names the format of the body, for example "s3" or "sns+s3".
	Format string
	// Objects are the created objects to read, in message order.
	Objects []ObjectRef
	// Skipped counts events that announce something other than an object
	// creation (deletions, restores, ...); they are not read.
	Skipped int
	// Test is set for s3:TestEvent and CloudTrail validation messages:
	// nothing to read, the message may be deleted.
	Test bool
}

// ObjectRef names one object.
type ObjectRef struct {
	Bucket    string
	Key       string // decoded: the key exactly as stored in S3
	VersionID string
	Size      int64 // as announced; 0 when unknown
	EventName string
	// Checksum is the checksum the notice gave (CrowdStrike FDR: the MD5 of
	// the object, in hex), informational; empty when none.
	Checksum string
}

// DecodeNotification decodes an SQS message body: an S3 event notification
// (event version 2.x, any number of Records; keys are URL-decoded, '+' being
// a space), the same inside an SNS envelope (or delivered raw), an
// EventBridge "Object Created" event, CloudTrail's SNS notice, CrowdStrike
// Falcon Data Replicator's notice (each of files[].path is a key in bucket;
// see [FormatFDR]), or an s3:TestEvent (plain or wrapped). Anything else is an error wrapping
// [ErrInvalidNotification]. It does no I/O and never panics.
func DecodeNotification(body []byte) (Notification, error) {
	n, err := decodeNotification(body, 0)
	if err != nil {
		return Notification{}, fmt.Errorf("%w: %v", ErrInvalidNotification, err)
	}
	return n, nil
}

type notificationProbe struct {
	Records json.RawMessage `json:"Records"`

	// SNS envelope
	Type     string  `json:"Type"`
	Message  *string `json:"Message"`
	TopicArn string  `json:"TopicArn"`

	// s3:TestEvent
	Event   string `json:"Event"`
	Service string `json:"Service"`

	// EventBridge
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Detail     json.RawMessage `json:"detail"`

	// CloudTrail notice
	S3Bucket    string          `json:"s3Bucket"`
	S3ObjectKey json.RawMessage `json:"s3ObjectKey"`

	// CrowdStrike FDR notice
	Bucket     *string         `json:"bucket"`
	PathPrefix string          `json:"pathPrefix"`
	Files      json.RawMessage `json:"files"`
}

// fdrFile is one entry of an FDR notice's files.
type fdrFile struct {
	Path     *string `json:"path"`
	Size     int64   `json:"size"`
	Checksum string  `json:"checksum"`
}

type s3EventRecord struct {
	EventVersion string `json:"eventVersion"`
	EventSource  string `json:"eventSource"`
	EventName    string `json:"eventName"`
	S3           struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       string `json:"key"`
			Size      int64  `json:"size"`
			VersionID string `json:"versionId"`
		} `json:"object"`
	} `json:"s3"`
}

type eventBridgeDetail struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key       string `json:"key"`
		Size      int64  `json:"size"`
		VersionID string `json:"version-id"`
	} `json:"object"`
}

const cloudTrailValidation = "CloudTrail validation message."

func decodeNotification(body []byte, depth int) (Notification, error) {
	body = bytes.TrimSpace(body)
	if string(body) == cloudTrailValidation {
		return Notification{Format: FormatTest, Test: true}, nil
	}
	if len(body) == 0 {
		return Notification{}, fmt.Errorf("empty message body")
	}
	if body[0] != '{' {
		return Notification{}, fmt.Errorf("message body is not a JSON object")
	}
	var p notificationProbe
	if err := json.Unmarshal(body, &p); err != nil {
		return Notification{}, fmt.Errorf("message body: %v", err)
	}
	switch {
	case p.Type != "" && p.TopicArn != "" || p.Type == "Notification":
		if p.Type != "Notification" {
			return Notification{}, fmt.Errorf("sns message of Type %q (a subscription must be confirmed through its SubscribeURL; nothing to read)", p.Type)
		}
		if p.Message == nil {
			return Notification{}, fmt.Errorf("sns notification without Message")
		}
		if depth > 0 {
			return Notification{}, fmt.Errorf("sns envelope inside an SNS envelope")
		}
		n, err := decodeNotification([]byte(*p.Message), depth+1)
		if err != nil {
			return Notification{}, fmt.Errorf("sns Message: %v", err)
		}
		n.Format = FormatSNSPrefix + n.Format
		return n, nil
	case p.Event == "s3:TestEvent":
		return Notification{Format: FormatTest, Test: true}, nil
	case p.Records != nil:
		return decodeS3Event(p.Records)
	case p.Source == "aws.s3" && p.DetailType != "":
		return decodeEventBridge(p.DetailType, p.Detail)
	case p.S3Bucket != "" || p.S3ObjectKey != nil:
		return decodeCloudTrailNotice(p.S3Bucket, p.S3ObjectKey)
	case p.Files != nil || p.Bucket != nil && p.PathPrefix != "":
		return decodeFDR(p.Bucket, p.PathPrefix, p.Files)
	}
	return Notification{}, fmt.Errorf("not an S3 event, SNS notification, EventBridge S3 event, CloudTrail notice, CrowdStrike FDR notice or s3:TestEvent")
}

func decodeS3Event(raw json.RawMessage) (Notification, error) {
	var recs []s3EventRecord
	if err := json.Unmarshal(raw, &recs); err != nil {
		return Notification{}, fmt.Errorf("s3 event Records: %v", err)
	}
	if len(recs) == 0 {
		return Notification{}, fmt.Errorf("s3 event Records: empty")
	}
	n := Notification{Format: FormatS3}
	for i, r := range recs {
		if r.EventSource != "aws:s3" && r.EventSource != "minio:s3" {
			return Notification{}, fmt.Errorf("s3 event Records[%d].eventSource %q: want aws:s3", i, r.EventSource)
		}
		if major, _, _ := strings.Cut(r.EventVersion, "."); major != "2" {
			return Notification{}, fmt.Errorf("s3 event Records[%d].eventVersion %q: want 2.x", i, r.EventVersion)
		}
		if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
			n.Skipped++
			continue
		}
		key, err := url.QueryUnescape(r.S3.Object.Key)
		if err != nil {
			return Notification{}, fmt.Errorf("s3 event Records[%d].s3.object.key: %v", i, err)
		}
		ref := ObjectRef{Bucket: r.S3.Bucket.Name, Key: key, VersionID: r.S3.Object.VersionID, Size: r.S3.Object.Size, EventName: r.EventName}
		if err := validRef(ref); err != nil {
			return Notification{}, fmt.Errorf("s3 event Records[%d]: %v", i, err)
		}
		n.Objects = append(n.Objects, ref)
	}
	return n, nil
}

func decodeEventBridge(detailType string, raw json.RawMessage) (Notification, error) {
	n := Notification{Format: FormatEventBridge}
	if detailType != "Object Created" {
		n.Skipped = 1
		return n, nil
	}
	var d eventBridgeDetail
	if err := json.Unmarshal(raw, &d); err != nil {
		return Notification{}, fmt.Errorf("detail: %v", err)
	}
	ref := ObjectRef{Bucket: d.Bucket.Name, Key: d.Object.Key, VersionID: d.Object.VersionID, Size: d.Object.Size, EventName: detailType}
	if err := validRef(ref); err != nil {
		return Notification{}, fmt.Errorf("detail: %v", err)
	}
	n.Objects = []ObjectRef{ref}
	return n, nil
}

func decodeCloudTrailNotice(bucket string, raw json.RawMessage) (Notification, error) {
	var keys []string
	if err := json.Unmarshal(raw, &keys); err != nil {
		return Notification{}, fmt.Errorf("s3ObjectKey: %v", err)
	}
	if len(keys) == 0 {
		return Notification{}, fmt.Errorf("s3ObjectKey: empty")
	}
	n := Notification{Format: FormatCloudTrail}
	for i, k := range keys {
		ref := ObjectRef{Bucket: bucket, Key: k}
		if err := validRef(ref); err != nil {
			return Notification{}, fmt.Errorf("s3ObjectKey[%d]: %v", i, err)
		}
		n.Objects = append(n.Objects, ref)
	}
	return n, nil
}

// decodeFDR decodes CrowdStrike Falcon Data Replicator's notice: every
// file is an object of bucket. A path outside pathPrefix (when one is
// given) is an error: the notice would name data it does not announce.
func decodeFDR(bucket *string, prefix string, raw json.RawMessage) (Notification, error) {
	if bucket == nil {
		return Notification{}, fmt.Errorf("crowdstrike fdr notice: no bucket")
	}
	if raw == nil {
		return Notification{}, fmt.Errorf("crowdstrike fdr notice: no files")
	}
	var files []fdrFile
	if err := json.Unmarshal(raw, &files); err != nil {
		return Notification{}, fmt.Errorf("crowdstrike fdr notice files: %v", err)
	}
	if len(files) == 0 {
		return Notification{}, fmt.Errorf("crowdstrike fdr notice files: empty")
	}
	n := Notification{Format: FormatFDR}
	for i, f := range files {
		if f.Path == nil {
			return Notification{}, fmt.Errorf("crowdstrike fdr notice files[%d].path: missing", i)
		}
		if f.Size < 0 {
			return Notification{}, fmt.Errorf("crowdstrike fdr notice files[%d].size %d: negative", i, f.Size)
		}
		if prefix != "" && !strings.HasPrefix(*f.Path, prefix) {
			return Notification{}, fmt.Errorf("crowdstrike fdr notice files[%d].path %q: outside pathPrefix %q", i, *f.Path, prefix)
		}
		ref := ObjectRef{Bucket: *bucket, Key: *f.Path, Size: f.Size, Checksum: f.Checksum}
		if err := validRef(ref); err != nil {
			return Notification{}, fmt.Errorf("crowdstrike fdr notice files[%d]: %v", i, err)
		}
		n.Objects = append(n.Objects, ref)
	}
	return n, nil
}

// validRef checks the bucket name and key of an announced object.
func validRef(r ObjectRef) error {
	if err := ValidBucketName(r.Bucket); err != nil {
		return err
	}
	return ValidKey(r.Key)
}

// ValidBucketName reports whether b can be an S3 bucket name: 3 to 63
// lowercase letters, digits, '.' and '-', beginning and ending with a letter
// or digit; legacy us-east-1 names (up to 255 characters, also uppercase
// letters and '_') are accepted too. Anything that could change the meaning
// of a request path ('/', '?', spaces, control characters) is rejected.
func ValidBucketName(b string) error {
	if len(b) < 3 || len(b) > 255 {
		return fmt.Errorf("bucket name %q: want 3 to 63 characters (255 for legacy names)", b)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' ||
			(c == '.' || c == '-') && i > 0 && i < len(b)-1
		if !ok {
			return fmt.Errorf("bucket name %q: invalid character %q at %d", b, c, i)
		}
	}
	return nil
}

// ValidKey reports whether k can be an S3 object key: 1 to 1024 bytes of
// UTF-8 without control characters (which S3 accepts but which make keys
// unsafe to print and to map to files), and no "." or ".." segment.
func ValidKey(k string) error {
	if k == "" {
		return fmt.Errorf("empty object key")
	}
	if len(k) > 1024 {
		return fmt.Errorf("object key of %d bytes: longer than 1024", len(k))
	}
	if !utf8.ValidString(k) {
		return fmt.Errorf("object key %q: not UTF-8", k)
	}
	for i, r := range k {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("object key %q: control character at %d", k, i)
		}
	}
	for _, seg := range strings.Split(k, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("object key %q: %q segment", k, seg)
		}
	}
	return nil
}
