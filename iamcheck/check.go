package iamcheck

import "fmt"

// Missing is a requirement the policies do not allow.
type Missing struct {
	Requirement
	Result Result `json:"result"`
}

// PolicyFinding is a finding of one named policy.
type PolicyFinding struct {
	Policy string `json:"policy"`
	Finding
}

// CheckResult is the outcome of Check.
type CheckResult struct {
	// Missing lists the job's requests that the policies deny, each with
	// the evaluation that says why.
	Missing []Missing `json:"missing"`
	// Unchecked lists requests that only a resource policy which was not
	// given can allow (a queue policy for S3 notifications, a key policy, a
	// trust policy, or any resource in another account).
	Unchecked []Requirement `json:"unchecked"`
	// Findings are the lints of every policy given.
	Findings []PolicyFinding `json:"findings"`
}

// OK reports whether nothing is missing and no finding is an error.
func (r CheckResult) OK() bool {
	if len(r.Missing) > 0 {
		return false
	}
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			return false
		}
	}
	return true
}

// Check evaluates every request of job (see Requirements) against the
// job role's identity policies and the resource policies given by kind
// (KindBucket, KindQueue, KindTopic, KindKMS, KindTrust), and lints each
// policy. Missing permissions are found by evaluation, not by matching
// text, so a statement that names the action but fails a condition counts
// as missing. The trusted principal's own identity policies live in its
// account and are taken to allow sts:AssumeRole. Policies without a Name
// are named "identity[i]" and after their kind. An invalid job is reported
// as an error.
func Check(job JobConfig, identity []*Policy, resources map[PolicyKind]*Policy) (CheckResult, error) {
	if err := job.Validate(); err != nil {
		return CheckResult{}, err
	}
	named := func(p *Policy, name string) *Policy {
		if p == nil || p.Name != "" {
			return p
		}
		q := *p
		q.Name = name
		return &q
	}
	ids := make([]*Policy, len(identity))
	for i, p := range identity {
		ids[i] = named(p, fmt.Sprintf("identity[%d]", i))
	}
	res := map[PolicyKind]*Policy{}
	for k, p := range resources {
		res[k] = named(p, string(k))
	}
	out := CheckResult{Missing: []Missing{}, Unchecked: []Requirement{}, Findings: []PolicyFinding{}}
	caller := job.caller()
	for _, r := range Requirements(job) {
		rp := res[r.Governs]
		var idp []*Policy
		switch {
		case r.Principal == caller:
			idp = ids
		case r.Governs == KindTrust:
			idp = []*Policy{allowAll}
		}
		if rp == nil && !identityCanDecide(r, caller) {
			out.Unchecked = append(out.Unchecked, r)
			continue
		}
		if result := Evaluate(r.Request, idp, rp); !result.Allowed() {
			out.Missing = append(out.Missing, Missing{r, result})
		}
	}
	for _, p := range ids {
		if p == nil {
			continue
		}
		for _, f := range Lint(p, KindIdentity, &job) {
			out.Findings = append(out.Findings, PolicyFinding{p.Name, f})
		}
	}
	for _, k := range []PolicyKind{KindTrust, KindBucket, KindQueue, KindTopic, KindKMS} {
		if p := res[k]; p != nil {
			for _, f := range Lint(p, k, &job) {
				out.Findings = append(out.Findings, PolicyFinding{p.Name, f})
			}
		}
	}
	return out, nil
}

// identityCanDecide reports whether the caller's identity policies alone
// can allow r (same account, no trust or key policy involved).
func identityCanDecide(r Requirement, caller string) bool {
	if r.Principal != caller || resourcePolicyRequired(&r.Request) {
		return false
	}
	pr := parsePrincipal(r.Principal)
	acct := r.ResourceAccount
	if acct == "" {
		if a, ok := parseARN(r.Resource); ok && a.Account != "" {
			acct = a.Account
		} else {
			acct = pr.account
		}
	}
	return acct == pr.account
}
