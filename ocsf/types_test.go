package ocsf

import (
	"encoding/json"
	"testing"
	"time"
)

var sampleTime = time.Date(2026, 3, 2, 9, 5, 12, 345e6, time.UTC)

func sampleBase(classUID int, category CategoryUID, activity int32) BaseEvent {
	b := BaseEvent{
		Metadata: Metadata{
			Product:  Product{Name: "Sensor", VendorName: "Example Corp", Version: "4.2"},
			Profiles: []string{"cloud", "datetime"},
			UID:      "evt-1",
			Version:  Version,
		},
		Cloud:      &Cloud{Provider: "AWS", Region: "eu-west-1", Account: &Account{UID: "111122223333"}},
		SeverityID: SeverityHigh,
		Severity:   "High",
		Time:       TimestampOf(sampleTime),
		TimeDt:     &sampleTime,
		StatusID:   StatusSuccess,
	}
	b.setClass(classUID, category, activity, "")
	return b
}

// sampleEvents builds one event of each class from the Go types.
func sampleEvents(t testing.TB) map[int][]byte {
	t.Helper()
	port := int32(6)
	events := map[int]any{
		ClassDetectionFinding: &DetectionFinding{
			BaseEvent:    sampleBase(ClassDetectionFinding, CategoryFindings, DetectionFindingCreate),
			FindingInfo:  &FindingInfo{UID: "f-1", Title: "Credential exfiltration", Analytic: &Analytic{Name: "rule-7", TypeID: 1, Type: "Rule"}, Types: []string{"TTPs"}},
			ConfidenceID: 3,
			Resources:    []ResourceDetails{{UID: "i-0123", Type: "AWS::EC2::Instance", Region: "eu-west-1"}},
			Evidences:    []Evidences{{Process: &Process{PID: 42, Name: "curl", File: &File{Name: "curl", TypeID: 1, Hashes: []Fingerprint{{AlgorithmID: 3, Value: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}}, ParentProcess: &Process{PID: 1, Name: "init"}}}},
			Attacks:      []Attack{{Tactic: &Tactic{UID: "TA0006", Name: "Credential Access"}, Technique: &Technique{UID: "T1552"}, Version: "14"}},
			Remediation:  &Remediation{Desc: "Rotate the credentials."},
		},
		ClassNetworkActivity: &NetworkActivity{
			BaseEvent:      sampleBase(ClassNetworkActivity, CategoryNetwork, NetworkActivityTraffic),
			SrcEndpoint:    &NetworkEndpoint{IP: "10.0.0.5", Port: 49152},
			DstEndpoint:    &NetworkEndpoint{IP: "192.0.2.1", Port: 443},
			ConnectionInfo: &NetworkConnectionInfo{DirectionID: 2, Direction: "Outbound", ProtocolNum: &port, ProtocolName: "tcp"},
			Traffic:        &NetworkTraffic{Bytes: 5120, Packets: 12},
		},
	}
	out := map[int][]byte{}
	for uid, ev := range events {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		out[uid] = b
	}
	return out
}

func TestGoTypesValidate(t *testing.T) {
	for name, schema := range map[string]func(t *testing.T) *Schema{
		"builtin":  func(t *testing.T) *Schema { return mustBuiltin(t) },
		"official": func(t *testing.T) *Schema { return officialSchema(t, Version) },
	} {
		t.Run(name, func(t *testing.T) {
			s := schema(t)
			for uid, ev := range sampleEvents(t) {
				findings, err := s.Validate(ev)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range findings {
					t.Errorf("class %d: %s", uid, f)
				}
			}
		})
	}
}

func TestTimestamp(t *testing.T) {
	ts := TimestampOf(sampleTime)
	if int64(ts) != 1772442312345 || !ts.Time().Equal(sampleTime) {
		t.Errorf("TimestampOf = %d, Time() = %s", ts, ts.Time())
	}
	if TypeUID(ClassAPIActivity, APIActivityDelete) != 600304 || TypeUID(ClassNetworkActivity, ActivityOther) != 400199 {
		t.Error("TypeUID")
	}
}

func mustBuiltin(t testing.TB) *Schema {
	t.Helper()
	s, err := Builtin(Version)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
