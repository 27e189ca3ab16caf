package iamcheck

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// corpusCase is one entry of testdata/corpus/*.json. A policy given as a
// JSON array is shorthand for {"Version": "2012-10-17", "Statement": [...]}.
type corpusCase struct {
	Name       string            `json:"name"`
	Rule       string            `json:"rule"`
	Identity   []json.RawMessage `json:"identity"`
	Resource   json.RawMessage   `json:"resource"`
	Request    Request           `json:"request"`
	Want       Decision          `json:"want"`
	Statements []string          `json:"statements"`
}

func corpusPolicy(t *testing.T, raw json.RawMessage) *Policy {
	t.Helper()
	if len(raw) > 0 && raw[0] == '[' {
		raw = json.RawMessage(`{"Version":"2012-10-17","Statement":` + string(raw) + `}`)
	}
	p, _, err := ParsePolicy(raw)
	if err != nil {
		t.Fatalf("parse policy: %v", err)
	}
	return p
}

func loadCorpus(t *testing.T) []corpusCase {
	t.Helper()
	files, err := filepath.Glob("testdata/corpus/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files: %v", err)
	}
	var all []corpusCase
	seen := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cases []corpusCase
		if err := json.Unmarshal(data, &cases); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, c := range cases {
			if c.Name == "" || c.Rule == "" || c.Want == "" {
				t.Fatalf("%s: case %q lacks name, rule or want", f, c.Name)
			}
			if seen[c.Name] {
				t.Fatalf("%s: duplicate case name %q", f, c.Name)
			}
			seen[c.Name] = true
		}
		all = append(all, cases...)
	}
	return all
}

// TestCorpus runs the evaluation corpus: cases written from the IAM User
// Guide's evaluation rules and examples, each naming the rule it exercises.
func TestCorpus(t *testing.T) {
	cases := loadCorpus(t)
	if len(cases) < 150 {
		t.Fatalf("corpus has %d cases, want at least 150", len(cases))
	}
	decisions := map[Decision]int{}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			var identity []*Policy
			for _, raw := range c.Identity {
				identity = append(identity, corpusPolicy(t, raw))
			}
			var resource *Policy
			if len(c.Resource) > 0 {
				resource = corpusPolicy(t, c.Resource)
			}
			got := Evaluate(c.Request, identity, resource)
			if got.Decision != c.Want {
				t.Fatalf("rule: %s\ngot %s, want %s\nreason: %s", c.Rule, got.Decision, c.Want, got.Reason)
			}
			if got.Reason == "" {
				t.Errorf("empty reason")
			}
			if c.Statements != nil {
				var refs []string
				for _, r := range got.Statements {
					refs = append(refs, r.Policy+" "+r.Statement)
				}
				if !slices.Equal(refs, c.Statements) {
					t.Errorf("statements = %q, want %q", refs, c.Statements)
				}
			}
		})
		decisions[c.Want]++
	}
	for _, d := range []Decision{DecisionAllow, DecisionExplicitDeny, DecisionImplicitDeny} {
		if decisions[d] < 20 {
			t.Errorf("corpus has only %d %s cases", decisions[d], d)
		}
	}
}
