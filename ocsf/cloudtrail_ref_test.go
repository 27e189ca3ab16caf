package ocsf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lakerelay/lakerelay"
)

// This file keeps the first implementation of MapCloudTrail, built on
// encoding/json (a generic decode of the record's top level, typed decodes of
// the fields it maps, one encode of the OCSF Go types), as the reference the
// single-pass mapper is checked against: FuzzMapCloudTrailReference requires
// byte-identical output, or an error from both. Only the names changed.

// refMapCloudTrail is MapCloudTrail as first written on encoding/json.
func refMapCloudTrail(raw []byte) ([]byte, error) {
	ev, err := refMapCloudTrailEvent(raw)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return nil, fmt.Errorf("ocsf: cloudtrail: %w: %w", lakerelay.ErrInvalidRecord, err)
	}
	// encoding/json copies the json.RawMessage values kept under unmapped
	// as they are; MapCloudTrail replaces each byte of invalid UTF-8 in them
	// by U+FFFD, as it decodes every other string. Outside those values
	// the output is valid UTF-8 already, so converting it all to runes and
	// back (U+FFFD for each invalid byte) does the same.
	return []byte(string([]rune(string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))))), nil
}

type refIdentity struct {
	Type           string      `json:"type"`
	PrincipalID    string      `json:"principalId"`
	ARN            string      `json:"arn"`
	AccountID      string      `json:"accountId"`
	AccessKeyID    string      `json:"accessKeyId"`
	UserName       string      `json:"userName"`
	InvokedBy      string      `json:"invokedBy"`
	SessionContext *refSession `json:"sessionContext"`
}

type refSession struct {
	SessionIssuer *struct {
		Type        string `json:"type"`
		PrincipalID string `json:"principalId"`
		ARN         string `json:"arn"`
		AccountID   string `json:"accountId"`
		UserName    string `json:"userName"`
	} `json:"sessionIssuer"`
	Attributes *struct {
		CreationDate     string `json:"creationDate"`
		MFAAuthenticated string `json:"mfaAuthenticated"`
	} `json:"attributes"`
}

type refResource struct {
	ARN       string `json:"ARN"`
	AccountID string `json:"accountId"`
	Type      string `json:"type"`
}

// refCloudTrail holds the fields the mapper reads.
type refCloudTrail struct {
	eventVersion, eventTime, eventSource, eventName string
	awsRegion, sourceIP, userAgent                  string
	errorCode, errorMessage, requestID, eventID     string
	recipientAccountID, apiVersion                  string
	identity                                        *refIdentity
	resources                                       []refResource
	requestParameters, responseElements             json.RawMessage
	additionalEventData                             json.RawMessage
	unmapped                                        map[string]any
}

// refStrings are the top-level string fields the mapper consumes.
var refStrings = map[string]func(*refCloudTrail) *string{
	"eventVersion":       func(c *refCloudTrail) *string { return &c.eventVersion },
	"eventTime":          func(c *refCloudTrail) *string { return &c.eventTime },
	"eventSource":        func(c *refCloudTrail) *string { return &c.eventSource },
	"eventName":          func(c *refCloudTrail) *string { return &c.eventName },
	"awsRegion":          func(c *refCloudTrail) *string { return &c.awsRegion },
	"sourceIPAddress":    func(c *refCloudTrail) *string { return &c.sourceIP },
	"userAgent":          func(c *refCloudTrail) *string { return &c.userAgent },
	"errorCode":          func(c *refCloudTrail) *string { return &c.errorCode },
	"errorMessage":       func(c *refCloudTrail) *string { return &c.errorMessage },
	"requestID":          func(c *refCloudTrail) *string { return &c.requestID },
	"eventID":            func(c *refCloudTrail) *string { return &c.eventID },
	"recipientAccountId": func(c *refCloudTrail) *string { return &c.recipientAccountID },
	"apiVersion":         func(c *refCloudTrail) *string { return &c.apiVersion },
}

func refInvalid(format string, args ...any) error {
	return fmt.Errorf("ocsf: cloudtrail: %w: %s", lakerelay.ErrInvalidRecord, fmt.Sprintf(format, args...))
}

func refParseCloudTrail(raw []byte) (*refCloudTrail, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("ocsf: cloudtrail: %w: %w", lakerelay.ErrInvalidRecord, err)
	}
	if fields == nil {
		return nil, refInvalid("record is null, want a JSON object")
	}
	ct := &refCloudTrail{unmapped: map[string]any{}}
	for key, val := range fields {
		if refIsNull(val) {
			continue
		}
		if dst, ok := refStrings[key]; ok {
			if err := json.Unmarshal(val, dst(ct)); err != nil {
				return nil, refInvalid("field %s: want a string", key)
			}
			continue
		}
		switch key {
		case "userIdentity":
			var id refIdentity
			if err := json.Unmarshal(val, &id); err != nil {
				return nil, refInvalid("field userIdentity: %v", err)
			}
			ct.identity = &id
			// Keep the parts without an OCSF attribute.
			var rest map[string]json.RawMessage
			_ = json.Unmarshal(val, &rest) // decoded above, cannot fail
			for _, k := range []string{"type", "principalId", "arn", "accountId", "accessKeyId", "userName", "invokedBy"} {
				delete(rest, k)
			}
			if len(rest) > 0 {
				ct.unmapped[key] = rest
			}
		case "resources":
			if err := json.Unmarshal(val, &ct.resources); err != nil {
				return nil, refInvalid("field resources: %v", err)
			}
		case "requestParameters":
			ct.requestParameters = val
			ct.unmapped[key] = val
		case "responseElements":
			ct.responseElements = val
			ct.unmapped[key] = val
		case "additionalEventData":
			ct.additionalEventData = val
			ct.unmapped[key] = val
		default:
			ct.unmapped[key] = val
		}
	}
	if ct.eventName == "" {
		return nil, refInvalid("field eventName is missing")
	}
	if ct.eventTime == "" {
		return nil, refInvalid("field eventTime is missing")
	}
	return ct, nil
}

func refIsNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

func refMapCloudTrailEvent(raw []byte) (any, error) {
	ct, err := refParseCloudTrail(raw)
	if err != nil {
		return nil, err
	}
	t, err := time.Parse(time.RFC3339, ct.eventTime)
	if err != nil {
		return nil, refInvalid("field eventTime is not an RFC 3339 time")
	}
	t = t.UTC().Truncate(time.Millisecond)

	base := BaseEvent{
		Cloud: &Cloud{Provider: "AWS", Region: ct.awsRegion},
		Metadata: Metadata{
			Product:  Product{Name: "CloudTrail", VendorName: "AWS", Version: ct.eventVersion},
			Profiles: []string{"cloud", "datetime"},
			UID:      ct.eventID,
			Version:  Version,
		},
		Severity:   "Informational",
		SeverityID: SeverityInformational,
		Time:       TimestampOf(t),
		TimeDt:     &t,
	}
	if ct.recipientAccountID != "" {
		base.Cloud.Account = &Account{UID: ct.recipientAccountID, Type: "AWS Account", TypeID: 10}
	}
	if len(ct.unmapped) > 0 {
		base.Unmapped = ct.unmapped
	}
	if ct.errorCode == "" {
		base.Status, base.StatusID = "Success", StatusSuccess
	} else {
		base.Status, base.StatusID = "Failure", StatusFailure
		base.StatusCode, base.StatusDetail = ct.errorCode, ct.errorMessage
	}

	api := &API{Operation: ct.eventName, Version: ct.apiVersion}
	if ct.eventSource != "" {
		api.Service = &Service{Name: ct.eventSource}
	}
	if ct.requestID != "" {
		api.Request = &Request{UID: ct.requestID}
	}
	if ct.errorCode != "" || ct.errorMessage != "" {
		api.Response = &Response{Error: ct.errorCode, Message: ct.errorMessage}
	}
	actor := ct.actor()
	src := ct.srcEndpoint()
	var httpReq *HTTPRequest
	if ct.userAgent != "" {
		httpReq = &HTTPRequest{UserAgent: ct.userAgent}
	}

	if activity, ok := authenticationActivity(ct.eventName); ok {
		ev := &Authentication{BaseEvent: base, Actor: actor, API: api, HTTPRequest: httpReq, SrcEndpoint: src}
		ev.setClass(ClassAuthentication, CategoryIAM, activity, "")
		ev.User = ct.identityUser()
		if ev.User == nil {
			ev.User = &User{Name: "unknown"}
			if ct.recipientAccountID != "" {
				ev.User = &User{Account: &Account{UID: ct.recipientAccountID, Type: "AWS Account", TypeID: 10}}
			}
		}
		ev.Service = &Service{Name: ct.eventSource}
		if ct.eventSource == "" {
			ev.Service.Name = "sts.amazonaws.com"
			if activity != AuthenticationTicket {
				ev.Service.Name = "signin.amazonaws.com"
			}
		}
		if ct.eventName == "ConsoleLogin" {
			ct.consoleLogin(ev)
		} else if activity == AuthenticationTicket {
			ev.Session = ct.issuedSession()
		}
		return ev, nil
	}
	if activity, name, ok := refAccountChangeActivity(ct); ok {
		ev := &AccountChange{BaseEvent: base, Actor: actor, API: api, HTTPRequest: httpReq, SrcEndpoint: src}
		ev.setClass(ClassAccountChange, CategoryIAM, activity, name)
		ev.User = ct.targetUser()
		ev.Policy = ct.policy()
		return ev, nil
	}
	activity := refAPIActivity(ct.eventName)
	ev := &APIActivity{BaseEvent: base, Actor: actor, API: api, HTTPRequest: httpReq, SrcEndpoint: src}
	name := ""
	if activity == ActivityOther {
		name = ct.eventName
	}
	ev.setClass(ClassAPIActivity, CategoryApplication, activity, name)
	for _, r := range ct.resources {
		rd := ResourceDetails{UID: r.ARN, Type: r.Type}
		if r.AccountID != "" {
			rd.Owner = &User{Account: &Account{UID: r.AccountID, Type: "AWS Account", TypeID: 10}}
		}
		if rd.UID == "" && rd.Type != "" {
			rd.Name = rd.Type // keep the constraint (name or uid) satisfied
		}
		if rd.UID != "" || rd.Name != "" {
			ev.Resources = append(ev.Resources, rd)
		}
	}
	return ev, nil
}

func refAPIActivity(eventName string) int32 {
	w := leadingWord(eventName)
	if w != "" {
		w = strings.ToUpper(w[:1]) + w[1:]
	}
	if a, ok := apiVerbs[w]; ok {
		return a
	}
	return ActivityOther
}

// refAccountChangeActivity classifies IAM user and credential changes.
func refAccountChangeActivity(ct *refCloudTrail) (int32, string, bool) {
	return accountChangeActivity(ct.eventSource, ct.eventName, func() string {
		var p struct {
			Status string `json:"status"`
		}
		_ = json.Unmarshal(ct.requestParameters, &p) // absent or odd: Other
		return p.Status
	})
}

func (ct *refCloudTrail) actor() *Actor {
	a := &Actor{}
	id := ct.identity
	if id == nil {
		a.InvokedBy = "unknown"
		return a
	}
	a.InvokedBy = id.InvokedBy
	a.User = ct.identityUser()
	if sc := id.SessionContext; sc != nil {
		s := &Session{CredentialUID: id.AccessKeyID}
		if sc.SessionIssuer != nil {
			s.Issuer = sc.SessionIssuer.ARN
		}
		if at := sc.Attributes; at != nil {
			if ts, err := time.Parse(time.RFC3339, at.CreationDate); err == nil {
				s.CreatedTime = TimestampOf(ts)
			}
			switch at.MFAAuthenticated {
			case "true":
				s.IsMFA = boolPtr(true)
			case "false":
				s.IsMFA = boolPtr(false)
			}
		}
		if s.Issuer != "" || s.CreatedTime != 0 || s.IsMFA != nil {
			a.Session = s
		}
	}
	if a.User == nil && a.InvokedBy == "" && a.Session == nil {
		a.InvokedBy = "unknown" // actor must name at least one of its parts
	}
	return a
}

// identityUser maps userIdentity to a user, or nil when it names none.
func (ct *refCloudTrail) identityUser() *User {
	id := ct.identity
	if id == nil {
		return nil
	}
	u := &User{UID: id.ARN, UIDAlt: id.PrincipalID, Type: id.Type, CredentialUID: id.AccessKeyID, Name: id.UserName}
	if u.Name == "" && id.SessionContext != nil && id.SessionContext.SessionIssuer != nil {
		u.Name = id.SessionContext.SessionIssuer.UserName
	}
	if id.Type == "AWSService" && u.Name == "" {
		u.Name = id.InvokedBy
	}
	if id.AccountID != "" {
		u.Account = &Account{UID: id.AccountID, Type: "AWS Account", TypeID: 10}
	}
	if u.UID == "" && u.Name == "" && u.Account == nil {
		return nil
	}
	return u
}

func (ct *refCloudTrail) srcEndpoint() *NetworkEndpoint {
	v := ct.sourceIP
	if v == "" {
		// Service events carry no caller address: the service itself acted.
		if ct.eventSource == "" {
			return &NetworkEndpoint{Name: "unknown"}
		}
		return &NetworkEndpoint{SvcName: ct.eventSource, Domain: ct.eventSource}
	}
	if _, err := netip.ParseAddr(v); err == nil {
		return &NetworkEndpoint{IP: v}
	}
	if strings.HasSuffix(v, ".amazonaws.com") {
		return &NetworkEndpoint{SvcName: v, Domain: v}
	}
	return &NetworkEndpoint{Name: v, Domain: v}
}

func (ct *refCloudTrail) consoleLogin(ev *Authentication) {
	var resp struct {
		ConsoleLogin string `json:"ConsoleLogin"`
	}
	_ = json.Unmarshal(ct.responseElements, &resp) // absent: errorCode decides
	var extra struct {
		MFAUsed string `json:"MFAUsed"`
	}
	_ = json.Unmarshal(ct.additionalEventData, &extra)
	switch resp.ConsoleLogin {
	case "Success":
		ev.Status, ev.StatusID = "Success", StatusSuccess
	case "Failure":
		ev.Status, ev.StatusID = "Failure", StatusFailure
		if ev.StatusDetail == "" {
			ev.StatusDetail = ct.errorMessage
		}
	}
	switch extra.MFAUsed {
	case "Yes":
		ev.IsMFA = boolPtr(true)
	case "No":
		ev.IsMFA = boolPtr(false)
	}
	ev.IsRemote = boolPtr(true)
}

// issuedSession describes the temporary credentials an STS call returned.
func (ct *refCloudTrail) issuedSession() *Session {
	var resp struct {
		Credentials struct {
			AccessKeyID string `json:"accessKeyId"`
			Expiration  string `json:"expiration"`
		} `json:"credentials"`
		AssumedRoleUser struct {
			ARN string `json:"arn"`
		} `json:"assumedRoleUser"`
	}
	if json.Unmarshal(ct.responseElements, &resp) != nil {
		return nil
	}
	s := &Session{CredentialUID: resp.Credentials.AccessKeyID, UID: resp.AssumedRoleUser.ARN}
	if exp, err := parseCloudTrailTime(resp.Credentials.Expiration); err == nil {
		s.ExpirationTime = TimestampOf(exp)
	}
	if s.CredentialUID == "" && s.UID == "" {
		return nil
	}
	var req struct {
		RoleARN string `json:"roleArn"`
	}
	_ = json.Unmarshal(ct.requestParameters, &req)
	s.Issuer = req.RoleARN
	return s
}

// targetUser is the IAM user an account change acts on: the userName request
// parameter (the caller itself when absent), with the ARN and id from the
// response when it has them.
func (ct *refCloudTrail) targetUser() *User {
	var req struct {
		UserName string `json:"userName"`
	}
	_ = json.Unmarshal(ct.requestParameters, &req)
	var resp struct {
		User struct {
			ARN    string `json:"arn"`
			UserID string `json:"userId"`
		} `json:"user"`
		AccessKey struct {
			AccessKeyID string `json:"accessKeyId"`
			UserName    string `json:"userName"`
		} `json:"accessKey"`
	}
	_ = json.Unmarshal(ct.responseElements, &resp)
	if req.UserName == "" {
		req.UserName = resp.AccessKey.UserName
	}
	if req.UserName == "" {
		if u := ct.identityUser(); u != nil {
			return u
		}
	}
	u := &User{Name: req.UserName, UID: resp.User.ARN, UIDAlt: resp.User.UserID, CredentialUID: resp.AccessKey.AccessKeyID}
	acct := ct.recipientAccountID
	if acct == "" && ct.identity != nil {
		acct = ct.identity.AccountID
	}
	if acct != "" {
		u.Account = &Account{UID: acct, Type: "AWS Account", TypeID: 10}
	}
	if u.Name == "" && u.UID == "" && u.Account == nil {
		u.Name = "unknown"
	}
	return u
}

func (ct *refCloudTrail) policy() *Policy {
	var req struct {
		PolicyARN  string `json:"policyArn"`
		PolicyName string `json:"policyName"`
	}
	if json.Unmarshal(ct.requestParameters, &req) != nil || (req.PolicyARN == "" && req.PolicyName == "") {
		return nil
	}
	name := req.PolicyName
	if name == "" {
		if i := strings.LastIndexByte(req.PolicyARN, '/'); i >= 0 {
			name = req.PolicyARN[i+1:]
		}
	}
	return &Policy{UID: req.PolicyARN, Name: name}
}

// referenceSeeds are CloudTrail-like records at the edges of how
// encoding/json reads JSON, each mapped by both implementations in
// TestMapCloudTrailReference and seeding FuzzMapCloudTrailReference.
var referenceSeeds = []string{
	// Escapes and UTF-8: decoded strings are written as encoding/json
	// writes them; values under unmapped keep their escapes; keys are
	// decoded.
	`{"eventName":"Get\u004fbject","eventTime":"2026-03-02T00:00:00Z","eventSource":"s3.amazon\u0061ws.com","userAgent":"a\"b\\c\/d\b\f\n\r\t\u0001\u001f\u007f"}`,
	`{"eventName":"X","eventTime":"2026-03-02T00:00:00Z","userAgent":"\u2028\u2029 caf\u00e9 \ud83d\ude00 \ud800 \udc00x \ud800\u0041","sourceIPAddress":"\u0031\u0030.0.0.1"}`,
	"{\"eventName\":\"X\xff\",\"eventTime\":\"2026-03-02T00:00:00Z\",\"errorCode\":\"\xe2\x80\xa8\xe2\x80\",\"k\xfe\":\"v\xfd\",\"\\u00e9\":{\"a\":\"\\u00e9\xff\"}}",
	`{"eventName":"X","eventTime":"2026-03-02T00:00:00Z","ke\u0079":1,"key":2,"\u2028":3,"b\"q":[1, 2 ,{ "a" : null }]}`,
	"{\"eventName\":\"X\",\"eventTime\":\"2026-03-02T00:00:00Z\",\"userIdentity\":{\"user\\u004eame\":\"bob\",\"x\xff\":1,\"arn\":\"a\\u2028\"}}",
	// Duplicates at the top level: the last one counts, null included.
	`{"eventName":"A","eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","x":1,"x":null,"y":null,"y":2,"z":1,"z":[3]}`,
	`{"eventName":"GetObject","eventName":null,"eventTime":"2026-03-02T00:00:00Z"}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","userIdentity":{"arn":"a"},"userIdentity":null}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","eventName":5}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","resources":"x","resources":[{"ARN":"r"}]}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","EventName":"PutObject","eventtime":"x","USERIDENTITY":{}}`,
	// Inside userIdentity: case-insensitive names (Kelvin sign K and long
	// s ſ fold to k and s), the last string wins, null keeps the value,
	// objects merge unless a null resets them.
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","userIdentity":{"ARN":"upper","arn":"lower","Arn":null,"TYPE":"AWSService","InvokedBy":"svc","access\u212aeyId":"K1","ſessionContext":{"sessionIssuer":{"Arn":"issuer","USERNAME":"role"}},"sessioncontext":{"attributes":{"MFAAuthenticated":"true"}},"accountid":"1","accountId":null}}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","userIdentity":{"type":"IAMUser","sessionContext":{"sessionIssuer":{"arn":"i"},"attributes":{"creationDate":"2026-03-01T00:00:00Z"}},"sessionContext":null,"sessionContext":{"attributes":{"mfaAuthenticated":"false"}},"userName":"u","userName":null}}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","userIdentity":{"sessionContext":{"sessionIssuer":{"arn":"i"},"sessionIssuer":null,"attributes":{"creationDate":"1970-01-01T00:00:00Z"}}}}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","userIdentity":{"type":null,"principalId":null,"foo":null,"sessionContext":{}}}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","userIdentity":{"invokedBy":"","accountId":"","x":{}}}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","userIdentity":{}}`,
	// Wrong JSON types: errors where encoding/json's decode fails.
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","userIdentity":{"arn":5}}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","userIdentity":{"Arn":true}}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","userIdentity":{"sessionContext":"x"}}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","userIdentity":{"sessionContext":{"attributes":{"creationDate":1}}}}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","userIdentity":{"sessionContext":{"sessionIssuer":[]}}}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","userIdentity":{"webIdFederationData":5,"sessionContext":{"x":1}}}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","userIdentity":[]}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","awsRegion":1}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","resources":[null,{"arn":"a","ACCOUNTID":"1"},{"type":"T"},{},{"Type":"U","Type":null}]}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","resources":[1]}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","resources":[{"ARN":{}}]}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","resources":[]}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z","resources":null,"requestParameters":null,"userIdentity":null}`,
	// Times: fractions and offsets; a UTC year outside 0–9999 cannot be
	// written.
	`{"eventName":"GetObject","eventTime":"2026-03-02T09:05:12.123456789+05:30"}`,
	`{"eventName":"GetObject","eventTime":"0000-01-01T00:30:00+01:00"}`,
	`{"eventName":"GetObject","eventTime":"9999-12-31T23:30:00-01:00"}`,
	`{"eventName":"GetObject","eventTime":"2026-03-02t00:00:00z"}`,
	`{"eventName":"GetObject","eventTime":""}`,
	// Request and response objects: names matched case-insensitively, wrong
	// types ignored, except for the issued session and the policy.
	`{"eventName":"ConsoleLogin","eventTime":"2026-03-02T00:00:00Z","responseElements":{"consolelogin":"Failure"},"additionalEventData":{"MFAUSED":"Yes","MFAUsed":5},"errorMessage":"bad"}`,
	`{"eventName":"ConsoleLogin","eventTime":"2026-03-02T00:00:00Z","errorCode":"E","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":"x"}`,
	`{"eventName":"ConsoleLogin","eventTime":"2026-03-02T00:00:00Z","recipientAccountId":"1","responseElements":[1]}`,
	`{"eventName":"AssumeRole","eventTime":"2026-03-02T00:00:00Z","responseElements":{"Credentials":{"AccessKeyId":"K","Expiration":"Mar 2, 2026, 10:05:12 AM"},"credentials":{"expiration":null},"AssumedRoleUser":null},"requestParameters":{"RoleArn":"r","roleArn":1}}`,
	`{"eventName":"AssumeRole","eventTime":"2026-03-02T00:00:00Z","responseElements":{"credentials":{"accessKeyId":"K","expiration":1}}}`,
	`{"eventName":"AssumeRoleWithSAML","eventTime":"2026-03-02T00:00:00Z","responseElements":{"assumedRoleUser":{"arn":"a"},"credentials":"x"}}`,
	`{"eventName":"GetSessionToken","eventTime":"2026-03-02T00:00:00Z","responseElements":{"assumedRoleUser":{"arn":"a"},"credentials":null,"other":5}}`,
	`{"eventName":"UpdateAccessKey","eventTime":"2026-03-02T00:00:00Z","requestParameters":{"Status":"Active","STATUS":7}}`,
	`{"eventName":"UpdateAccessKey","eventSource":"iam.amazonaws.com","eventTime":"2026-03-02T00:00:00Z","requestParameters":"Inactive"}`,
	`{"eventName":"AttachUserPolicy","eventTime":"2026-03-02T00:00:00Z","requestParameters":{"PolicyArn":"arn:aws:iam::aws:policy/Admin","userName":"bob"}}`,
	`{"eventName":"AttachUserPolicy","eventTime":"2026-03-02T00:00:00Z","requestParameters":{"policyArn":"arn","policyName":1,"UserName":"bob"}}`,
	`{"eventName":"PutUserPolicy","eventTime":"2026-03-02T00:00:00Z","requestParameters":{"policyArn":"noslash"},"recipientAccountId":"1"}`,
	`{"eventName":"CreateAccessKey","eventTime":"2026-03-02T00:00:00Z","responseElements":{"AccessKey":{"AccessKeyId":"K","UserName":"u"},"User":"x","user":{"ARN":"a","userid":"i"}}}`,
	`{"eventName":"CreateUser","eventTime":"2026-03-02T00:00:00Z","userIdentity":{"accountId":"9"}}`,
	`{"eventName":"DeleteUser","eventTime":"2026-03-02T00:00:00Z","userIdentity":{"arn":"me"}}`,
	`{"eventName":"DeleteUser","eventTime":"2026-03-02T00:00:00Z","eventSource":"sts.amazonaws.com"}`,
	// Classification and endpoints.
	`{"eventName":"getObject","eventTime":"2026-03-02T00:00:00Z","sourceIPAddress":"fe80::1%eth0","eventSource":"x"}`,
	`{"eventName":"éList","eventTime":"2026-03-02T00:00:00Z","sourceIPAddress":"AWS Internal"}`,
	`{"eventName":"ListFunctions20150331","eventTime":"2026-03-02T00:00:00Z","sourceIPAddress":"lambda.amazonaws.com"}`,
	`{"eventName":"SwitchRole","eventTime":"2026-03-02T00:00:00Z","eventSource":""}`,
	`{"eventName":"ExitRole","eventTime":"2026-03-02T00:00:00Z","recipientAccountId":"1","apiVersion":"v","requestID":"","errorMessage":"m"}`,
	// White space is left out of the values kept under unmapped.
	" \n{ \"eventName\" : \"GetObject\" ,\t\"eventTime\" : \"2026-03-02T00:00:00Z\" , \"requestParameters\" : { \"a\" : [ 1 , \"x y\" , { } ] } ,\r\n \"userIdentity\" : { \"sessionContext\" : { \"attributes\" : { } } } } \n",
	// Not a record.
	`null`, `[]`, `"x"`, `1`, ``, `{`, `{"eventName":"GetObject","eventTime":"2026-03-02T00:00:00Z"} x`, `{"a":1,}`,
}

// checkAgainstReference requires MapCloudTrail and AppendCloudTrail to give
// the reference's event byte for byte, or an error wrapping
// lakerelay.ErrInvalidRecord where the reference fails.
func checkAgainstReference(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := refMapCloudTrail(data)
	got, err := MapCloudTrail(data)
	switch {
	case wantErr != nil && err == nil:
		t.Fatalf("MapCloudTrail(%q) = %s; the reference fails: %v", data, got, wantErr)
	case wantErr == nil && err != nil:
		t.Fatalf("MapCloudTrail(%q): %v; the reference gives %s", data, err, want)
	case err != nil:
		if !errors.Is(err, lakerelay.ErrInvalidRecord) {
			t.Fatalf("MapCloudTrail(%q): %v does not wrap ErrInvalidRecord", data, err)
		}
		if out, err2 := AppendCloudTrail([]byte("prefix"), data); err2 == nil || string(out) != "prefix" {
			t.Fatalf("AppendCloudTrail(prefix, %q) = %q, %v; want prefix and an error", data, out, err2)
		}
		return
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("MapCloudTrail(%q):\n got %s\nwant %s", data, got, want)
	}
	out, err := AppendCloudTrail([]byte("prefix"), data)
	if err != nil || string(out) != "prefix"+string(want) {
		t.Fatalf("AppendCloudTrail(prefix, %q) = %s, %v; want prefix%s", data, out, err, want)
	}
}

func TestMapCloudTrailReference(t *testing.T) {
	for name, rec := range corpus(t) {
		t.Run(name, func(t *testing.T) { checkAgainstReference(t, rec) })
		// Indented: white space everywhere, left out of unmapped.
		var indented bytes.Buffer
		if err := json.Indent(&indented, rec, " ", "\t"); err != nil {
			t.Fatal(err)
		}
		t.Run(name+"_indented", func(t *testing.T) { checkAgainstReference(t, indented.Bytes()) })
	}
	for i, s := range referenceSeeds {
		t.Run(fmt.Sprintf("seed%d", i), func(t *testing.T) { checkAgainstReference(t, []byte(s)) })
	}
}

// FuzzMapCloudTrailReference checks MapCloudTrail against the reference
// implementation on encoding/json: the same bytes, or both fail.
func FuzzMapCloudTrailReference(f *testing.F) {
	for _, rec := range corpus(f) {
		f.Add(rec)
	}
	for _, s := range referenceSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkAgainstReference)
}

// memberPlaces are records with a hole (%s) where FuzzCloudTrailMemberReference
// puts its members: each place the mapping reads members from.
var memberPlaces = []string{
	`{%s"eventName":"EVENT","eventTime":"2026-03-02T00:00:00Z","recipientAccountId":"1"}`,
	`{"eventName":"EVENT","eventTime":"2026-03-02T00:00:00Z","userIdentity":{%s"type":"IAMUser"}}`,
	`{"eventName":"EVENT","eventTime":"2026-03-02T00:00:00Z","userIdentity":{"sessionContext":{%s"x":1}}}`,
	`{"eventName":"EVENT","eventTime":"2026-03-02T00:00:00Z","userIdentity":{"sessionContext":{"sessionIssuer":{%s"arn":"i"}}}}`,
	`{"eventName":"EVENT","eventTime":"2026-03-02T00:00:00Z","userIdentity":{"sessionContext":{"attributes":{%s"mfaAuthenticated":"false"}}}}`,
	`{"eventName":"EVENT","eventTime":"2026-03-02T00:00:00Z","resources":[{%s"ARN":"r"},{%s"x":1}]}`,
	`{"eventName":"EVENT","eventTime":"2026-03-02T00:00:00Z","requestParameters":{%s"x":1}}`,
	`{"eventName":"EVENT","eventTime":"2026-03-02T00:00:00Z","responseElements":{%s"x":1}}`,
	`{"eventName":"EVENT","eventTime":"2026-03-02T00:00:00Z","responseElements":{"credentials":{%s"accessKeyId":"k"}}}`,
	`{"eventName":"EVENT","eventTime":"2026-03-02T00:00:00Z","responseElements":{"user":{%s"arn":"u"},"accessKey":{%s"x":1}}}`,
	`{"eventName":"EVENT","eventTime":"2026-03-02T00:00:00Z","additionalEventData":{%s"x":1}}`,
}

// memberEvents are the eventNames that read each kind of member.
var memberEvents = []string{"GetObject", "ConsoleLogin", "AssumeRole", "UpdateAccessKey", "AttachUserPolicy", "CreateAccessKey", "DeleteUser", "Decrypt"}

// FuzzCloudTrailMemberReference checks MapCloudTrail against the reference
// on records holding two fuzzed members ("name1":value1,"name2":value2) at
// one of the places the mapping reads members from: names matched exactly,
// case-insensitively or not at all, duplicates, escapes, values of every
// JSON type. Byte-level fuzzing of whole records rarely gets there.
func FuzzCloudTrailMemberReference(f *testing.F) {
	f.Add(uint8(1), uint8(0), "ARN", []byte(`"x"`), "arn", []byte(`null`))
	f.Add(uint8(1), uint8(0), "sessionContext", []byte(`{"attributes":{"creationDate":"2026-01-01T00:00:00Z"}}`), "SessionContext", []byte(`null`))
	f.Add(uint8(2), uint8(1), "sessionIssuer", []byte(`{"userName":"n"}`), "attributes", []byte(`{"mfaAuthenticated":"true"}`))
	f.Add(uint8(3), uint8(0), "userName", []byte(`5`), "Arn", []byte(`"y"`))
	f.Add(uint8(5), uint8(0), "type", []byte(`"T"`), "accountId", []byte(`"1"`))
	f.Add(uint8(6), uint8(3), "status", []byte(`"Active"`), "Status", []byte(`"Inactive"`))
	f.Add(uint8(6), uint8(4), "policyArn", []byte(`"arn:p/x"`), "policyName", []byte(`null`))
	f.Add(uint8(6), uint8(2), "roleArn", []byte(`"r"`), "userName", []byte(`"u"`))
	f.Add(uint8(7), uint8(1), "ConsoleLogin", []byte(`"Failure"`), "consolelogin", []byte(`1`))
	f.Add(uint8(7), uint8(2), "credentials", []byte(`{"accessKeyId":"k","expiration":"2026-03-02T01:00:00Z"}`), "assumedRoleUser", []byte(`{"arn":"a"}`))
	f.Add(uint8(8), uint8(2), "expiration", []byte(`"Mar 2, 2026, 10:05:12 AM"`), "accessKeyId", []byte(`[]`))
	f.Add(uint8(9), uint8(5), "userId", []byte(`"i"`), "userName", []byte(`"n"`))
	f.Add(uint8(10), uint8(1), "MFAUsed", []byte(`"Yes"`), "mfaused", []byte(`"No"`))
	f.Add(uint8(0), uint8(7), "userIdentity", []byte(`{"arn":"a"}`), "eventName", []byte(`"GetObject"`))
	f.Add(uint8(0), uint8(0), "errorCode", []byte(`"E"`), "errorMessage", []byte(`"\u2028"`))
	f.Add(uint8(1), uint8(0), "access\u212aeyId", []byte(`"K"`), "ſessionContext", []byte(`{}`))
	f.Fuzz(func(t *testing.T, place, event uint8, name1 string, value1 []byte, name2 string, value2 []byte) {
		members := `"` + name1 + `":` + string(value1) + `,"` + name2 + `":` + string(value2) + `,`
		rec := strings.ReplaceAll(memberPlaces[int(place)%len(memberPlaces)], "%s", members)
		rec = strings.Replace(rec, "EVENT", memberEvents[int(event)%len(memberEvents)], 1)
		checkAgainstReference(t, []byte(rec))
	})
}
