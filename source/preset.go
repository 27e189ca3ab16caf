package source

import (
	"fmt"
	"strings"

	"github.com/lakerelay/lakerelay"
)

// Tags label the records of one log source. A source sets them in the
// origin of every record it reads (lakerelay.Origin's LogType, Vendor and
// Category); a LogTypes prefix that matches an object's key overrides
// LogType.
type Tags struct {
	// LogType names the log type in msg_class style:
	// generic_s3_<source>_log, for example "generic_s3_crowdstrike_log".
	LogType string
	// Vendor names the vendor of the product that wrote the logs, for
	// example "CrowdStrike".
	Vendor string
	// Category names the kind of data: "cloud", "endpoint", "email",
	// "access"; empty when the source does not say.
	Category string
}

// tagged returns o with t's labels set; a LogType o already has (from a
// LogTypes prefix) stays.
func tagged(o lakerelay.Origin, t Tags) lakerelay.Origin {
	if o.LogType == "" {
		o.LogType = t.LogType
	}
	o.Vendor, o.Category = t.Vendor, t.Category
	return o
}

// Preset is how to read one vendor's logs from S3: the stream type (and
// fields to expand) of its objects, the notification format its queue
// carries, and the tags of its records. Apply it with its SQS, List or Dir
// method, which are option functions:
//
//	src, err := source.NewSQS(s3c, sqsc, queueURL, source.PresetCrowdStrikeFDR.SQS)
//
// An option given after the preset overrides what it set. Every
// notification format, the vendor's own included ([FormatFDR] for
// CrowdStrike), is decoded by [DecodeNotification], so a queue fed by S3
// event notifications (for logs copied to a bucket of one's own) works with
// the same preset.
//
// Preset values are read-only: copy one to change it.
type Preset struct {
	// Name is the short name used on command lines ("crowdstrike").
	Name string
	// Title names the product ("CrowdStrike Falcon Data Replicator").
	Title string
	// Notification is the notification format the vendor's queue carries:
	// a Format constant, or "" for S3 event notifications (directly,
	// through SNS or from EventBridge).
	Notification string
	// StreamType says how an object is split into records.
	StreamType StreamType
	// ExpandFields, when set, name the top-level array fields whose
	// elements are the records (see DecodeOptions.ExpandFields).
	ExpandFields []string
	// Tags label the records.
	Tags Tags
}

// The presets.
var (
	// PresetCloudTrail reads AWS CloudTrail log files: one JSON document
	// per object whose "Records" array holds the events. Digest files
	// (CloudTrail-Digest/) hold no "Records": exclude that prefix.
	PresetCloudTrail = Preset{
		Name: "cloudtrail", Title: "AWS CloudTrail", Notification: FormatCloudTrail,
		StreamType: JSON, ExpandFields: []string{"Records"},
		Tags: Tags{LogType: "generic_s3_cloudtrail_log", Vendor: "AWS", Category: "cloud"},
	}
	// PresetCrowdStrikeFDR reads CrowdStrike Falcon Data Replicator data:
	// gzip newline-delimited JSON objects announced by FDR's own SQS
	// notice ([FormatFDR]). Each line is one event (ProcessRollup2,
	// NetworkConnectIP4, ...).
	PresetCrowdStrikeFDR = Preset{
		Name: "crowdstrike", Title: "CrowdStrike Falcon Data Replicator", Notification: FormatFDR,
		StreamType: NDJSON,
		Tags:       Tags{LogType: "generic_s3_crowdstrike_log", Vendor: "CrowdStrike", Category: "endpoint"},
	}
	// PresetProofpointTAP reads Proofpoint Targeted Attack Protection SIEM
	// API responses as written to S3: JSON documents whose
	// messagesDelivered, messagesBlocked, clicksPermitted and clicksBlocked
	// arrays hold the events, each element one record.
	PresetProofpointTAP = Preset{
		Name: "proofpoint", Title: "Proofpoint Targeted Attack Protection",
		StreamType: JSON, ExpandFields: []string{"messagesDelivered", "messagesBlocked", "clicksPermitted", "clicksBlocked"},
		Tags: Tags{LogType: "generic_s3_proofpoint_log", Vendor: "Proofpoint", Category: "email"},
	}
	// PresetTeleport reads Teleport audit events exported as JSON lines
	// (user.login, session.start, session.end, ...), one event a line.
	PresetTeleport = Preset{
		Name: "teleport", Title: "Teleport audit events",
		StreamType: NDJSON,
		Tags:       Tags{LogType: "generic_s3_teleport_log", Vendor: "Teleport", Category: "access"},
	}
	// PresetGenericJSON reads JSON of any shape ([Auto]: NDJSON, a JSON
	// array, a CloudTrail-style "Records" document).
	PresetGenericJSON = Preset{
		Name: "generic-json", Title: "Generic JSON",
		StreamType: Auto,
		Tags:       Tags{LogType: "generic_s3_json_log"},
	}
)

// Presets lists the presets.
var Presets = []Preset{PresetCloudTrail, PresetCrowdStrikeFDR, PresetProofpointTAP, PresetTeleport, PresetGenericJSON}

// PresetNamed returns the preset of that Name.
func PresetNamed(name string) (Preset, error) {
	names := make([]string, len(Presets))
	for i, p := range Presets {
		if p.Name == name {
			return p, nil
		}
		names[i] = p.Name
	}
	return Preset{}, fmt.Errorf("source: no preset %q (have %s)", name, strings.Join(names, ", "))
}

// decode sets the stream type and fields to expand of o; the record and
// object size limits stay.
func (p Preset) decode(o *DecodeOptions) {
	o.StreamType = p.StreamType
	o.ExpandField = ""
	o.ExpandFields = append([]string(nil), p.ExpandFields...)
}

// SQS applies the preset to SQS options: Decode's stream type and fields to
// expand, and Tags.
func (p Preset) SQS(o *SQSOptions) { p.decode(&o.Decode); o.Tags = p.Tags }

// List applies the preset to List options, as [Preset.SQS].
func (p Preset) List(o *ListOptions) { p.decode(&o.Decode); o.Tags = p.Tags }

// Dir applies the preset to Dir options, as [Preset.SQS].
func (p Preset) Dir(o *DirOptions) { p.decode(&o.Decode); o.Tags = p.Tags }
