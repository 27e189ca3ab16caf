package ocsf

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lakerelay/lakerelay"
)

// vendorMappers are the mappers of vendor events, each with its corpus in
// testdata/<name>/ and golden files in testdata/<name>-ocsf/.
var vendorMappers = map[string]func([]byte) ([]byte, error){
	"crowdstrike": MapCrowdStrike,
	"teleport":    MapTeleport,
	"proofpoint":  MapProofpoint,
}

// vendorCorpus returns the events of testdata/<vendor>, one JSON document
// a file, by file name without .json.
func vendorCorpus(t testing.TB, vendor string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", vendor, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no %s corpus: %v", vendor, err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = bytes.TrimSpace(b)
	}
	return out
}

// checkCompact fails t unless a mapper's output is what the package doc
// promises: one JSON object without insignificant whitespace, in valid
// UTF-8 (so that a mapped record may carry lakerelay.Record.JSON).
func checkCompact(t testing.TB, got []byte) {
	t.Helper()
	var compact bytes.Buffer
	if !utf8.Valid(got) || !json.Valid(got) || len(got) == 0 || got[0] != '{' {
		t.Fatalf("output is not one JSON object in valid UTF-8: %q", got)
	}
	if err := json.Compact(&compact, got); err != nil || !bytes.Equal(compact.Bytes(), got) {
		t.Fatalf("output is not compact JSON: %s", got)
	}
}

// checkGolden compares an event with testdata/<dir>/<name>.json, pretty
// printed; with -update it writes the file first. The event must be
// compact (checkCompact).
func checkGolden(t *testing.T, dir, name string, got []byte) {
	t.Helper()
	checkCompact(t, got)
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, got, "", "  "); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	pretty.WriteByte('\n')
	golden := filepath.Join("testdata", dir, name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./ocsf -run Golden -update to create it)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("mapping of %s differs from %s (run with -update after checking the diff):\n%s", name, golden, pretty.String())
	}
}

// TestMapVendorsGolden maps every corpus event, compares the result with
// its golden file and validates it against the built-in definitions and
// the official 1.1.0 export: no error findings.
func TestMapVendorsGolden(t *testing.T) {
	off := officialSchema(t, Version)
	for vendor, mapper := range vendorMappers {
		for name, rec := range vendorCorpus(t, vendor) {
			t.Run(vendor+"/"+name, func(t *testing.T) {
				got, err := mapper(rec)
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, vendor+"-ocsf", name, got)
				for what, s := range map[string]*Schema{"built-in": mustBuiltin(t), "official": off} {
					findings, err := s.Validate(got)
					if err != nil {
						t.Fatal(err)
					}
					for _, f := range findings {
						if f.Severity == lakerelay.SeverityError {
							t.Errorf("%s %s: %s", what, Version, f)
						}
					}
				}
				checkVendorNothingLost(t, rec, got)
			})
		}
	}
}

// checkVendorNothingLost asserts that every top-level field of a vendor
// event either appears somewhere in the OCSF event as a value or is kept
// under unmapped.
func checkVendorNothingLost(t *testing.T, rec, out []byte) {
	t.Helper()
	var in map[string]json.RawMessage
	var ev struct {
		Unmapped map[string]json.RawMessage `json:"unmapped"`
	}
	if err := json.Unmarshal(rec, &in); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &ev); err != nil {
		t.Fatal(err)
	}
	for k, v := range in {
		if u, ok := ev.Unmapped[k]; ok {
			var a, b any
			_ = json.Unmarshal(v, &a)
			_ = json.Unmarshal(u, &b)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("unmapped.%s = %s, want %s", k, u, v)
			}
			continue
		}
		var list []string
		if json.Unmarshal(v, &list) == nil {
			for _, s := range list {
				if !bytes.Contains(out, []byte(strconv.Quote(s))) {
					t.Errorf("field %s: %s neither mapped nor in unmapped", k, s)
				}
			}
			continue
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = string(v)
		}
		if k == "timestamp" || k == "time" || k == "ProcessStartTime" || k == "session_start" || k == "session_stop" ||
			k == "success" || k == "method" || k == "mfa_device" || k == "event_platform" || k == "Protocol" ||
			k == "event" || k == "addr.remote" || k == "server_addr" {
			continue // converted, checked by the class tests
		}
		if !bytes.Contains(out, []byte(strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`))) {
			t.Errorf("field %s (%s) neither mapped nor in unmapped", k, s)
		}
	}
}

func TestMapVendorsClasses(t *testing.T) {
	cases := []struct {
		vendor, name string
		class        int
		activity     int32
		status       StatusID
	}{
		{"crowdstrike", "process_rollup2_windows", ClassProcessActivity, ProcessActivityLaunch, StatusSuccess},
		{"crowdstrike", "process_rollup2_linux", ClassProcessActivity, ProcessActivityLaunch, StatusSuccess},
		{"crowdstrike", "network_connect_ip4", ClassNetworkActivity, NetworkActivityOpen, StatusSuccess},
		{"crowdstrike", "network_receive_accept_ip4", ClassNetworkActivity, NetworkActivityOpen, StatusSuccess},
		{"teleport", "user_login_success", ClassAuthentication, AuthenticationLogon, StatusSuccess},
		{"teleport", "user_login_failure", ClassAuthentication, AuthenticationLogon, StatusFailure},
		{"teleport", "session_start", ClassAuthentication, AuthenticationLogon, StatusSuccess},
		{"teleport", "session_end", ClassAuthentication, AuthenticationLogoff, StatusSuccess},
		{"proofpoint", "message_delivered", ClassEmailActivity, EmailActivityScan, StatusSuccess},
		{"proofpoint", "message_blocked", ClassEmailActivity, EmailActivityScan, StatusSuccess},
	}
	n := 0
	for vendor := range vendorMappers {
		n += len(vendorCorpus(t, vendor))
	}
	if n != len(cases) {
		t.Errorf("%d expectations for %d corpus events", len(cases), n)
	}
	for _, c := range cases {
		t.Run(c.vendor+"/"+c.name, func(t *testing.T) {
			rec, ok := vendorCorpus(t, c.vendor)[c.name]
			if !ok {
				t.Fatalf("no corpus event %s", c.name)
			}
			out, err := vendorMappers[c.vendor](rec)
			if err != nil {
				t.Fatal(err)
			}
			var ev struct {
				BaseEvent
				ConnectionInfo *NetworkConnectionInfo `json:"connection_info"`
				DispositionID  int32                  `json:"disposition_id"`
				SrcEndpoint    *NetworkEndpoint       `json:"src_endpoint"`
				DstEndpoint    *NetworkEndpoint       `json:"dst_endpoint"`
			}
			if err := json.Unmarshal(out, &ev); err != nil {
				t.Fatal(err)
			}
			if int(ev.ClassUID) != c.class || ev.ActivityID != c.activity || ev.StatusID != c.status || ev.TypeUID != TypeUID(c.class, c.activity) {
				t.Errorf("class %d activity %d status %d type %d, want %d %d %d", ev.ClassUID, ev.ActivityID, ev.StatusID, ev.TypeUID, c.class, c.activity, c.status)
			}
			if c.vendor == "proofpoint" {
				want := int32(1) // Allowed
				if c.name == "message_blocked" {
					want = 2 // Blocked
				}
				if ev.DispositionID != want {
					t.Errorf("disposition_id %d, want %d", ev.DispositionID, want)
				}
			}
			if ev.ConnectionInfo != nil {
				// Inbound: the remote peer is the source.
				var src struct {
					Local  string `json:"LocalAddressIP4"`
					Remote string `json:"RemoteAddressIP4"`
				}
				_ = json.Unmarshal(rec, &src)
				wantSrc, wantDir := src.Local, int32(2)
				if c.name == "network_receive_accept_ip4" {
					wantSrc, wantDir = src.Remote, 1
				}
				if ev.SrcEndpoint.IP != wantSrc || ev.ConnectionInfo.DirectionID != wantDir {
					t.Errorf("src %s direction %d, want %s %d", ev.SrcEndpoint.IP, ev.ConnectionInfo.DirectionID, wantSrc, wantDir)
				}
			}
		})
	}
}

func TestMapVendorsInvalid(t *testing.T) {
	cases := []struct {
		vendor, name, in, want string
	}{
		{"crowdstrike", "not json", `{"event_simpleName":`, ""},
		{"crowdstrike", "array", `[1]`, ""},
		{"crowdstrike", "null", `null`, "null"},
		{"crowdstrike", "trailing", `{"event_simpleName":"ProcessRollup2"} {}`, "after"},
		{"crowdstrike", "no name", `{"timestamp":"1700000000000"}`, "event_simpleName"},
		{"crowdstrike", "no timestamp", `{"event_simpleName":"ProcessRollup2","TargetProcessId":"1"}`, "timestamp"},
		{"crowdstrike", "bad timestamp", `{"event_simpleName":"ProcessRollup2","timestamp":"soon"}`, "timestamp"},
		{"crowdstrike", "unmapped type", `{"event_simpleName":"DnsRequest","timestamp":"1700000000000"}`, "DnsRequest"},
		{"crowdstrike", "no process id", `{"event_simpleName":"ProcessRollup2","aid":"a","timestamp":"1700000000000","ParentProcessId":"2"}`, "TargetProcessId"},
		{"crowdstrike", "no actor", `{"event_simpleName":"ProcessRollup2","aid":"a","timestamp":"1700000000000","TargetProcessId":"1"}`, "actor"},
		{"crowdstrike", "pid type", `{"event_simpleName":"ProcessRollup2","aid":"a","timestamp":"1700000000000","TargetProcessId":"1","ParentProcessId":"2","RawProcessId":"x"}`, "RawProcessId"},
		{"crowdstrike", "pid range", `{"event_simpleName":"ProcessRollup2","aid":"a","timestamp":"1700000000000","TargetProcessId":"1","ParentProcessId":"2","RawProcessId":"99999999999"}`, "RawProcessId"},
		{"crowdstrike", "name type", `{"event_simpleName":["x"],"timestamp":"1700000000000"}`, "event_simpleName"},
		{"crowdstrike", "bad ip", `{"event_simpleName":"NetworkConnectIP4","aid":"a","timestamp":"1700000000000","LocalAddressIP4":"x","RemoteAddressIP4":"192.0.2.1"}`, "IPv4"},
		{"crowdstrike", "bad port", `{"event_simpleName":"NetworkConnectIP4","aid":"a","timestamp":"1700000000000","LocalAddressIP4":"10.0.0.1","RemoteAddressIP4":"192.0.2.1","RemotePort":"70000"}`, "RemotePort"},
		{"teleport", "no event", `{"time":"2023-11-15T09:14:26Z","user":"a"}`, "event"},
		{"teleport", "unmapped type", `{"event":"exec","time":"2023-11-15T09:14:26Z","user":"a"}`, "exec"},
		{"teleport", "no time", `{"event":"user.login","user":"a"}`, "time"},
		{"teleport", "no user", `{"event":"user.login","time":"2023-11-15T09:14:26Z"}`, "user"},
		{"teleport", "success type", `{"event":"user.login","time":"2023-11-15T09:14:26Z","user":"a","success":"yes"}`, "success"},
		{"proofpoint", "click", `{"clickTime":"2023-11-15T09:30:44.000Z","url":"http://x.example/"}`, "click events"},
		{"proofpoint", "no time", `{"GUID":"g","sender":"a@b.example","recipient":["c@d.example"]}`, "messageTime"},
		{"proofpoint", "no recipient", `{"messageTime":"2023-11-15T09:11:38Z","sender":"a@b.example"}`, "recipient"},
		{"proofpoint", "bad address", `{"messageTime":"2023-11-15T09:11:38Z","sender":"a@b.example","toAddresses":["not an address"]}`, "toAddresses[0]"},
		{"proofpoint", "recipient type", `{"messageTime":"2023-11-15T09:11:38Z","sender":"a@b.example","recipient":[1]}`, "recipient"},
		{"proofpoint", "bad ip", `{"messageTime":"2023-11-15T09:11:38Z","sender":"a@b.example","recipient":["c@d.example"],"senderIP":"x"}`, "senderIP"},
		{"teleport", "bad session_start", `{"event":"session.end","time":"2023-11-15T09:14:26Z","user":"a","session_start":"x"}`, "session_start"},
	}
	for _, c := range cases {
		t.Run(c.vendor+"/"+c.name, func(t *testing.T) {
			out, err := vendorMappers[c.vendor]([]byte(c.in))
			if !errors.Is(err, lakerelay.ErrInvalidRecord) {
				t.Fatalf("%s = %s, %v; want ErrInvalidRecord", c.in, out, err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "ocsf: "+c.vendor+": ") {
				t.Errorf("error %q does not name %q", err, c.want)
			}
		})
	}
}

// vendorIndex numbers the vendors for FuzzMapVendors.
func vendorIndex(vendor string) uint8 {
	return map[string]uint8{"crowdstrike": 0, "teleport": 1, "proofpoint": 2}[vendor]
}

// FuzzMapVendors: the vendor mappers never panic, fail only with
// ErrInvalidRecord, and what they emit validates against the built-in
// definitions.
func FuzzMapVendors(f *testing.F) {
	for vendor := range vendorMappers {
		for _, rec := range vendorCorpus(f, vendor) {
			f.Add(vendorIndex(vendor), rec)
		}
	}
	f.Add(uint8(0), []byte(`{"event_simpleName":"NetworkReceiveAcceptIP4","timestamp":1,"aid":"a","LocalAddressIP4":"::1","RemoteAddressIP4":"10.0.0.1"}`))
	f.Add(uint8(1), []byte(`{"event":"session.start","time":"2023-11-15T09:14:26Z","user":"a","server_addr":"[::1]:22","server_hostname":"-x"}`))
	s := mustBuiltin(f)
	f.Add(uint8(2), []byte(`{"messageTime":"2023-11-15T09:11:38Z","sender":"a@b.example","recipient":"c@d.example","quarantineFolder":"x","policyRoutes":["outbound"]}`))
	f.Fuzz(func(t *testing.T, which uint8, rec []byte) {
		mapper := []func([]byte) ([]byte, error){MapCrowdStrike, MapTeleport, MapProofpoint}[which%3]
		out, err := mapper(rec)
		if err != nil {
			if !errors.Is(err, lakerelay.ErrInvalidRecord) {
				t.Fatalf("error %v does not wrap ErrInvalidRecord", err)
			}
			return
		}
		findings, err := s.Validate(out)
		if err != nil {
			t.Fatalf("output is not an event: %v\n%s", err, out)
		}
		if lakerelay.HasErrors(findings) {
			t.Fatalf("output does not validate: %v\n%s", findings, out)
		}
	})
}

// BenchmarkMapVendors maps each vendor's corpus once per iteration.
func BenchmarkMapVendors(b *testing.B) {
	for _, vendor := range []string{"crowdstrike", "teleport", "proofpoint"} {
		b.Run(vendor, func(b *testing.B) {
			var recs [][]byte
			var size int64
			for _, r := range vendorCorpus(b, vendor) {
				recs = append(recs, r)
				size += int64(len(r))
			}
			mapper := vendorMappers[vendor]
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				for _, r := range recs {
					if _, err := mapper(r); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
		})
	}
}
