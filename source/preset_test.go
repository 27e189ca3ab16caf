package source

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lakerelay/lakerelay/internal/testenv"
)

// vendorEvents returns the events of ../ocsf/testdata/<vendor> (one JSON
// document a file, written from the vendor's documentation), compacted, in
// file order.
func vendorEvents(t *testing.T, vendor string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "ocsf", "testdata", vendor, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no %s fixtures: %v", vendor, err)
	}
	sort.Strings(paths)
	var out []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, b); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, c.String())
	}
	return out
}

// expandedFixture returns the elements of the named arrays of a fixture
// document, compacted, in document order.
func expandedFixture(t *testing.T, name string, fields ...string) (raw []byte, elems []string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "presets", name))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, f := range fields {
		var arr []json.RawMessage
		if err := json.Unmarshal(doc[f], &arr); err != nil {
			t.Fatalf("%s.%s: %v", name, f, err)
		}
		for _, e := range arr {
			var c bytes.Buffer
			_ = json.Compact(&c, e)
			elems = append(elems, c.String())
		}
	}
	return raw, elems
}

// TestSQSPresets collects each preset's fixtures through SQS and MinIO: the
// records arrive whole, in order, with the preset's tags, and each message
// is deleted once they are acknowledged. CrowdStrike's objects are
// announced by FDR's own notice.
func TestSQSPresets(t *testing.T) {
	e := newEnv(t, testenv.QueueOptions{})
	crowdstrike := vendorEvents(t, "crowdstrike")
	teleport := vendorEvents(t, "teleport")
	proofpoint, proofpointRecs := expandedFixture(t, "proofpoint-tap-siem.json", PresetProofpointTAP.ExpandFields...)
	trail := []string{`{"eventVersion":"1.08","eventName":"GetObject","eventTime":"2023-11-15T09:00:00Z"}`,
		`{"eventVersion":"1.08","eventName":"PutObject","eventTime":"2023-11-15T09:00:01Z"}`}

	cases := []struct {
		preset Preset
		key    string
		object []byte
		want   []string
		notify func(key string)
	}{
		{PresetCloudTrail, "AWSLogs/111122223333/CloudTrail/us-east-1/2023/11/15/trail.json.gz",
			gz(t, `{"Records":[`+strings.Join(trail, ",\n")+`]}`), trail, nil},
		{PresetCrowdStrikeFDR, "data/f0714ca5-3689-448d-b5cc-582a6f7a56b1/part-00000.gz",
			gz(t, strings.Join(crowdstrike, "\n")+"\n"), crowdstrike, func(key string) {
				b, _ := json.Marshal(map[string]any{"cid": "1234567890abcdef1234567890abcdef", "timestamp": 1700038900123,
					"fileCount": 1, "totalSize": 1, "bucket": e.bucket, "pathPrefix": "data/f0714ca5-3689-448d-b5cc-582a6f7a56b1",
					"files": []map[string]any{{"path": key, "size": 1, "checksum": "69fe068d0d7b3fe6a0e5d84ab3dc2df8"}}})
				e.send(string(b))
			}},
		{PresetProofpointTAP, "proofpoint/siem/2023-11-15T10:00:00Z.json", proofpoint, proofpointRecs, nil},
		{PresetTeleport, "teleport/audit/2023-11-15.jsonl", []byte(strings.Join(teleport, "\n") + "\n"), teleport, nil},
		{PresetGenericJSON, "generic/app.json", []byte(`[{"a":1},{"b":[2]}]`), []string{`{"a":1}`, `{"b":[2]}`}, nil},
	}
	for _, c := range cases {
		t.Run(c.preset.Name, func(t *testing.T) {
			if len(c.want) < 2 {
				t.Fatalf("fixture of %d records: too few to show anything", len(c.want))
			}
			e.queue = testenv.StartSQS(t).NewQueue(t, testenv.QueueOptions{VisibilityTimeout: 2 * time.Second})
			e.put(c.key, c.object)
			if c.notify != nil {
				c.notify(c.key)
			} else {
				e.notify(c.key)
			}
			s, errs := e.source(c.preset.SQS)
			got := read(t, s, len(c.want), 30*time.Second, nil)
			for i, r := range got {
				if string(r.Data) != c.want[i] {
					t.Errorf("record %d = %s, want %s", i, r.Data, c.want[i])
				}
				o := r.Origin
				if o.LogType != c.preset.Tags.LogType || o.Vendor != c.preset.Tags.Vendor || o.Category != c.preset.Tags.Category {
					t.Errorf("record %d tags %q %q %q, want %+v", i, o.LogType, o.Vendor, o.Category, c.preset.Tags)
				}
				if o.Bucket != e.bucket || o.Key != c.key || o.Index != int64(i) {
					t.Errorf("record %d origin %s", i, o)
				}
			}
			waitFor(t, 10*time.Second, "the message to be deleted", func() bool { return s.Stats().Deleted == 1 })
			if n := e.queueDepth(e.queue.URL); n != 0 {
				t.Errorf("%d messages left in the queue", n)
			}
			if err := errors.Join(errs.errors()...); err != nil {
				t.Errorf("errors: %v", err)
			}
		})
	}
}

// TestSQSFDRNoticeInvalid: an FDR notice that names a file outside its
// pathPrefix is reported with the field path and stays in the queue (for
// its DLQ); nothing is read.
func TestSQSFDRNoticeInvalid(t *testing.T) {
	e := newEnv(t, testenv.QueueOptions{})
	e.put("data/other/part-00000.gz", gz(t, `{"event_simpleName":"x"}`+"\n"))
	body := `{"bucket":"` + e.bucket + `","pathPrefix":"data/mine","files":[{"path":"data/other/part-00000.gz","size":1}]}`
	e.send(body)
	s, errs := e.source(PresetCrowdStrikeFDR.SQS)
	waitFor(t, 10*time.Second, "the notice to be rejected", func() bool { return len(errs.errors()) > 0 })
	err := errs.errors()[0]
	var me *MessageError
	if !errors.As(err, &me) || !errors.Is(err, ErrInvalidNotification) || !strings.Contains(err.Error(), "files[0].path") {
		t.Fatalf("error %v: want a *MessageError wrapping ErrInvalidNotification naming files[0].path", err)
	}
	if st := s.Stats(); st.Records != 0 || st.Deleted != 0 {
		t.Errorf("stats %+v: nothing may be read or deleted", st)
	}
	s.Close()
	if left := e.remaining(4 * time.Second); len(left) != 1 || left[0] != body {
		t.Errorf("queue holds %q, want the notice", left)
	}
}

func TestPresetNamed(t *testing.T) {
	for _, p := range Presets {
		got, err := PresetNamed(p.Name)
		if err != nil || got.Name != p.Name {
			t.Errorf("PresetNamed(%q) = %v, %v", p.Name, got.Name, err)
		}
		var o SQSOptions
		o.Decode.MaxRecordSize = 5
		p.SQS(&o)
		if err := o.Validate(); err != nil {
			t.Errorf("%s: options invalid: %v", p.Name, err)
		}
		if o.Decode.MaxRecordSize != 5 || o.Decode.StreamType != p.StreamType || o.Tags != p.Tags {
			t.Errorf("%s: applied %+v", p.Name, o)
		}
		if p.Name != "generic-json" && (!strings.HasPrefix(p.Tags.LogType, "generic_s3_") || !strings.HasSuffix(p.Tags.LogType, "_log") || p.Tags.Vendor == "") {
			t.Errorf("%s: tags %+v not in msg_class style", p.Name, p.Tags)
		}
	}
	if _, err := PresetNamed("splunk"); err == nil || !strings.Contains(err.Error(), "crowdstrike") {
		t.Errorf("unknown preset: %v", err)
	}
}

func TestExpandFieldsValidate(t *testing.T) {
	for _, o := range []DecodeOptions{
		{StreamType: Lines, ExpandFields: []string{"a"}},
		{StreamType: JSONArray, ExpandFields: []string{"a"}},
		{StreamType: JSON, ExpandFields: []string{"a", ""}},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	if err := (DecodeOptions{StreamType: NDJSON, ExpandField: "x", ExpandFields: []string{"a"}}).Validate(); err != nil {
		t.Error(err)
	}
}
