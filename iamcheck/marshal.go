package iamcheck

import "encoding/json"

// MarshalJSON renders the policy in IAM's JSON grammar: Statement as an
// array, one-element lists as bare strings, conditions grouped by operator.
// Parsing the output gives a policy that evaluates every request the same
// way.
func (p *Policy) MarshalJSON() ([]byte, error) {
	type doc struct {
		Version   string      `json:"Version,omitempty"`
		ID        string      `json:"Id,omitempty"`
		Statement []statement `json:"Statement"`
	}
	d := doc{Version: p.Version, ID: p.ID, Statement: []statement{}}
	for _, s := range p.Statements {
		d.Statement = append(d.Statement, s.jsonForm())
	}
	return json.Marshal(d)
}

type statement struct {
	Sid          string                             `json:"Sid,omitempty"`
	Effect       Effect                             `json:"Effect"`
	Principal    *Principal                         `json:"Principal,omitempty"`
	NotPrincipal *Principal                         `json:"NotPrincipal,omitempty"`
	Action       *stringOrList                      `json:"Action,omitempty"`
	NotAction    *stringOrList                      `json:"NotAction,omitempty"`
	Resource     *stringOrList                      `json:"Resource,omitempty"`
	NotResource  *stringOrList                      `json:"NotResource,omitempty"`
	Condition    map[string]map[string]stringOrList `json:"Condition,omitempty"`
}

func (s *Statement) jsonForm() statement {
	out := statement{Sid: s.Sid, Effect: s.Effect, Principal: s.Principal, NotPrincipal: s.NotPrincipal,
		Action: list(s.Action), NotAction: list(s.NotAction), Resource: list(s.Resource), NotResource: list(s.NotResource)}
	for _, c := range s.Conditions {
		if out.Condition == nil {
			out.Condition = map[string]map[string]stringOrList{}
		}
		m := out.Condition[c.Operator]
		if m == nil {
			m = map[string]stringOrList{}
			out.Condition[c.Operator] = m
		}
		m[c.Key] = append(m[c.Key], c.Values...)
	}
	return out
}

// stringOrList marshals one value as a string and several as an array.
type stringOrList []string

func (l stringOrList) MarshalJSON() ([]byte, error) {
	if len(l) == 1 {
		return json.Marshal(l[0])
	}
	if l == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]string(l))
}

// MarshalJSON renders "*" for Any, else an object of the non-empty lists.
func (p *Principal) MarshalJSON() ([]byte, error) {
	if p.Any {
		return []byte(`"*"`), nil
	}
	type principal struct {
		AWS           stringOrList `json:"AWS,omitempty"`
		Service       stringOrList `json:"Service,omitempty"`
		Federated     stringOrList `json:"Federated,omitempty"`
		CanonicalUser stringOrList `json:"CanonicalUser,omitempty"`
	}
	return json.Marshal(principal{p.AWS, p.Service, p.Federated, p.CanonicalUser})
}

// list keeps the difference between an absent element (nil) and a present
// one.
func list(s []string) *stringOrList {
	if s == nil {
		return nil
	}
	l := stringOrList(s)
	return &l
}
