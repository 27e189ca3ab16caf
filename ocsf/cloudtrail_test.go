package ocsf

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/lakerelay/lakerelay"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// corpus returns the CloudTrail records of testdata/cloudtrail by name.
func corpus(t testing.TB) map[string][]byte { return vendorCorpus(t, "cloudtrail") }

func TestMapCloudTrailGolden(t *testing.T) {
	for name, rec := range corpus(t) {
		t.Run(name, func(t *testing.T) {
			got, err := MapCloudTrail(rec)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "cloudtrail-ocsf", name, got)
		})
	}
}

func TestMapCloudTrailClasses(t *testing.T) {
	cases := []struct {
		name     string
		class    int
		activity int32
		status   StatusID
	}{
		{"console_login_success", ClassAuthentication, AuthenticationLogon, StatusSuccess},
		{"console_login_failure", ClassAuthentication, AuthenticationLogon, StatusFailure},
		{"assume_role", ClassAuthentication, AuthenticationTicket, StatusSuccess},
		{"service_invoked_assume_role", ClassAuthentication, AuthenticationTicket, StatusSuccess},
		{"create_user", ClassAccountChange, AccountChangeCreate, StatusSuccess},
		{"delete_user", ClassAccountChange, AccountChangeDelete, StatusSuccess},
		{"create_access_key", ClassAccountChange, ActivityOther, StatusSuccess},
		{"attach_user_policy", ClassAccountChange, AccountChangeAttachPolicy, StatusSuccess},
		{"get_object", ClassAPIActivity, APIActivityRead, StatusSuccess},
		{"put_object", ClassAPIActivity, APIActivityUpdate, StatusSuccess},
		{"list_functions", ClassAPIActivity, APIActivityRead, StatusSuccess},
		{"generate_data_key", ClassAPIActivity, APIActivityCreate, StatusSuccess},
		{"describe_instances", ClassAPIActivity, APIActivityRead, StatusSuccess},
		{"run_instances", ClassAPIActivity, APIActivityCreate, StatusSuccess},
		{"terminate_instances", ClassAPIActivity, APIActivityDelete, StatusSuccess},
		{"access_denied", ClassAPIActivity, APIActivityRead, StatusFailure},
		{"put_bucket_policy_denied", ClassAPIActivity, APIActivityUpdate, StatusFailure},
		{"service_event", ClassAPIActivity, ActivityOther, StatusSuccess},
	}
	recs := corpus(t)
	if len(cases) != len(recs) {
		t.Errorf("%d expectations for %d corpus records", len(cases), len(recs))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, ok := recs[c.name]
			if !ok {
				t.Fatalf("no corpus record %s", c.name)
			}
			out, err := MapCloudTrail(rec)
			if err != nil {
				t.Fatal(err)
			}
			var ev struct {
				BaseEvent
				Unmapped map[string]json.RawMessage `json:"unmapped"`
			}
			if err := json.Unmarshal(out, &ev); err != nil {
				t.Fatal(err)
			}
			if int(ev.ClassUID) != c.class || ev.ActivityID != c.activity || ev.StatusID != c.status {
				t.Errorf("class %d activity %d status %d, want %d %d %d", ev.ClassUID, ev.ActivityID, ev.StatusID, c.class, c.activity, c.status)
			}
			if ev.TypeUID != TypeUID(c.class, c.activity) {
				t.Errorf("type_uid %d", ev.TypeUID)
			}
			var src struct {
				EventID   string `json:"eventID"`
				EventTime string `json:"eventTime"`
			}
			_ = json.Unmarshal(rec, &src)
			if ev.Metadata.UID != src.EventID || ev.Metadata.Product.Name != "CloudTrail" || ev.Metadata.Product.VendorName != "AWS" || ev.Metadata.Version != Version {
				t.Errorf("metadata %+v", ev.Metadata)
			}
			if got := ev.Time.Time().Format("2006-01-02T15:04:05"); !strings.HasPrefix(src.EventTime, got) {
				t.Errorf("time %s, eventTime %s", got, src.EventTime)
			}
			findings, err := Validate(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range findings {
				t.Errorf("built-in validation: %s", f)
			}
			checkNothingLost(t, rec, out)
		})
	}
}

// checkNothingLost asserts that every CloudTrail field without an OCSF
// attribute is kept under unmapped.
func checkNothingLost(t *testing.T, rec, out []byte) {
	t.Helper()
	var in map[string]json.RawMessage
	var ev struct {
		Unmapped map[string]json.RawMessage `json:"unmapped"`
	}
	_ = json.Unmarshal(rec, &in)
	_ = json.Unmarshal(out, &ev)
	for k, v := range in {
		if ctStringField(k) >= 0 || k == "resources" || bytes.Equal(v, []byte("null")) {
			continue
		}
		if k == "userIdentity" {
			var id map[string]json.RawMessage
			_ = json.Unmarshal(v, &id)
			if _, ok := id["sessionContext"]; ok {
				var um map[string]json.RawMessage
				_ = json.Unmarshal(ev.Unmapped[k], &um)
				if _, ok := um["sessionContext"]; !ok {
					t.Errorf("userIdentity.sessionContext not kept in unmapped")
				}
			}
			continue
		}
		got, ok := ev.Unmapped[k]
		if !ok {
			t.Errorf("CloudTrail field %s neither mapped nor in unmapped", k)
			continue
		}
		var a, b bytes.Buffer
		_ = json.Compact(&a, v)
		_ = json.Compact(&b, got)
		if a.String() != b.String() {
			t.Errorf("unmapped.%s = %s, want %s", k, b.String(), a.String())
		}
	}
}

func TestMapCloudTrailOfficialSchema(t *testing.T) {
	off := officialSchema(t, Version)
	for name, rec := range corpus(t) {
		t.Run(name, func(t *testing.T) {
			out, err := MapCloudTrail(rec)
			if err != nil {
				t.Fatal(err)
			}
			findings, err := off.Validate(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range findings {
				if f.Severity == lakerelay.SeverityError {
					t.Errorf("official %s: %s", Version, f)
				} else {
					t.Logf("official %s: %s", Version, f)
				}
			}
		})
	}
}

func TestMapCloudTrailInvalid(t *testing.T) {
	cases := map[string]string{
		"not json":        `{"eventName":`,
		"array":           `[1,2]`,
		"null":            `null`,
		"string":          `"x"`,
		"no eventName":    `{"eventTime":"2026-03-02T00:00:00Z"}`,
		"no eventTime":    `{"eventName":"GetObject"}`,
		"bad eventTime":   `{"eventName":"GetObject","eventTime":"yesterday"}`,
		"eventName type":  `{"eventName":42,"eventTime":"2026-03-02T00:00:00Z"}`,
		"identity type":   `{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","userIdentity":"root"}`,
		"resources type":  `{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","resources":{"ARN":"x"}}`,
		"empty":           ``,
		"trailing object": `{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z"} {}`,
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := MapCloudTrail([]byte(in))
			if !errors.Is(err, lakerelay.ErrInvalidRecord) {
				t.Fatalf("MapCloudTrail(%s) = %s, %v; want ErrInvalidRecord", in, out, err)
			}
			if !lakerelay.IsPermanent(err) {
				t.Error("error is not permanent")
			}
		})
	}
}

func TestMapCloudTrailMinimal(t *testing.T) {
	out, err := MapCloudTrail([]byte(`{"eventName":"DescribeRegions","eventTime":"2026-03-02T00:00:00Z","someFutureField":{"a":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	findings, err := Validate(out)
	if err != nil {
		t.Fatal(err)
	}
	if lakerelay.HasErrors(findings) {
		t.Errorf("minimal record maps to an invalid event: %v", findings)
	}
	if !bytes.Contains(out, []byte(`"unmapped":{"someFutureField":{"a":1}}`)) {
		t.Errorf("unknown field not kept in unmapped: %s", out)
	}
}

func TestAPIActivityVerbs(t *testing.T) {
	cases := map[string]int32{
		"GenerateDataKey": 1, "CreateBucket": 1, "RunInstances": 1,
		"ListFunctions20150331": 2, "GetObject": 2, "DescribeInstances": 2, "SearchResources": 2, "LookupEvents": 2,
		"UpdateFunctionCode20150331v2": 3, "PutObject": 3, "ModifyInstanceAttribute": 3, "AddPermission": 3,
		"RemovePermission": 3, "StartInstances": 3, "StopInstances": 3, "AttachVolume": 3, "DetachVolume": 3,
		"AssociateAddress": 3, "DisassociateAddress": 3, "TagResource": 3, "UntagResource": 3, "EnableKey": 3,
		"DisableKey": 3, "RegisterTaskDefinition": 3, "DeregisterTaskDefinition": 3,
		"DeleteBucket": 4, "TerminateInstances": 4,
		"Decrypt": 99, "Unknown": 99, "BatchGetItem": 99, "": 99, "Listen": 99, "getObject": 2,
	}
	for name, want := range cases {
		if got := apiActivity(name); got != want {
			t.Errorf("apiActivity(%q) = %d, want %d", name, got, want)
		}
	}
}

// TestMapCloudTrailConcurrent maps the corpus from several goroutines at
// once (the mapper recycles its working state between calls): every event
// must be the one a single call gives.
func TestMapCloudTrailConcurrent(t *testing.T) {
	recs := corpus(t)
	want := map[string][]byte{}
	for name, rec := range recs {
		out, err := MapCloudTrail(rec)
		if err != nil {
			t.Fatal(err)
		}
		want[name] = out
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			var buf []byte
			for range 20 {
				for name, rec := range recs {
					out, err := MapCloudTrail(rec)
					if g%2 == 1 { // half of them append into a reused buffer
						buf, err = AppendCloudTrail(buf[:0], rec)
						out = buf
					}
					if err != nil || !bytes.Equal(out, want[name]) {
						errs <- fmt.Errorf("%s: %v\n got %s\nwant %s", name, err, out, want[name])
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
