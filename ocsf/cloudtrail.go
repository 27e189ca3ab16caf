package ocsf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode"

	"github.com/lakerelay/lakerelay"
)

// MapCloudTrail maps one AWS CloudTrail record (a JSON object, one element of
// a log file's Records array) to one OCSF [Version] event (JSON), following
// the OCSF project's published CloudTrail mapping:
//
//   - sign-in and credential-issuing events become Authentication (3002):
//     ConsoleLogin and SwitchRole are Logon, ConsoleLogout and ExitRole
//     Logoff, AssumeRole* / GetSessionToken / GetFederationToken
//     Authentication Ticket;
//   - IAM user and credential changes (CreateUser, DeleteUser,
//     CreateAccessKey, ChangePassword, AttachUserPolicy, EnableMFADevice, …)
//     become Account Change (3001);
//   - everything else becomes API Activity (6003), its activity taken from the
//     leading word of eventName: Create/Run/Generate → Create (1);
//     Get/List/Describe/Search/Lookup → Read (2); Update/Put/Modify/Add/
//     Remove/Start/Stop/Attach/Detach/Associate/Disassociate/Tag/Untag/
//     Enable/Disable/Register/Deregister → Update (3); Delete/Terminate →
//     Delete (4); any other word → Other (99, activity_name = eventName).
//
// Every class gets actor (userIdentity), api (eventName, eventSource,
// requestID, errorCode/errorMessage), src_endpoint (sourceIPAddress: ip when
// it is an address, else svc_name/name and domain; the event's service when
// absent), cloud (provider AWS, awsRegion, recipientAccountId),
// http_request.user_agent, resources (resources[].ARN/type/accountId),
// status from errorCode (Success when absent, else Failure with status_code
// and status_detail), severity Informational, time and time_dt from
// eventTime, and metadata (product CloudTrail by AWS with version
// eventVersion, uid eventID, version [Version], profiles cloud and datetime).
// CloudTrail fields with no OCSF attribute (requestParameters,
// responseElements, additionalEventData, tlsDetails, sessionContext, …) are
// kept verbatim under unmapped, so nothing is lost.
//
// The error wraps lakerelay.ErrInvalidRecord when raw is not a JSON object,
// lacks eventName or eventTime, or has a field of the wrong JSON type.
func MapCloudTrail(raw []byte) ([]byte, error) {
	ev, err := mapCloudTrail(raw)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return nil, fmt.Errorf("ocsf: cloudtrail: %w: %w", lakerelay.ErrInvalidRecord, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

type ctIdentity struct {
	Type           string     `json:"type"`
	PrincipalID    string     `json:"principalId"`
	ARN            string     `json:"arn"`
	AccountID      string     `json:"accountId"`
	AccessKeyID    string     `json:"accessKeyId"`
	UserName       string     `json:"userName"`
	InvokedBy      string     `json:"invokedBy"`
	SessionContext *ctSession `json:"sessionContext"`
}

type ctSession struct {
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

type ctResource struct {
	ARN       string `json:"ARN"`
	AccountID string `json:"accountId"`
	Type      string `json:"type"`
}

// cloudTrail holds the fields the mapper reads.
type cloudTrail struct {
	eventVersion, eventTime, eventSource, eventName string
	awsRegion, sourceIP, userAgent                  string
	errorCode, errorMessage, requestID, eventID     string
	recipientAccountID, apiVersion                  string
	identity                                        *ctIdentity
	resources                                       []ctResource
	requestParameters, responseElements             json.RawMessage
	additionalEventData                             json.RawMessage
	unmapped                                        map[string]any
}

// ctStrings are the top-level string fields the mapper consumes.
var ctStrings = map[string]func(*cloudTrail) *string{
	"eventVersion":       func(c *cloudTrail) *string { return &c.eventVersion },
	"eventTime":          func(c *cloudTrail) *string { return &c.eventTime },
	"eventSource":        func(c *cloudTrail) *string { return &c.eventSource },
	"eventName":          func(c *cloudTrail) *string { return &c.eventName },
	"awsRegion":          func(c *cloudTrail) *string { return &c.awsRegion },
	"sourceIPAddress":    func(c *cloudTrail) *string { return &c.sourceIP },
	"userAgent":          func(c *cloudTrail) *string { return &c.userAgent },
	"errorCode":          func(c *cloudTrail) *string { return &c.errorCode },
	"errorMessage":       func(c *cloudTrail) *string { return &c.errorMessage },
	"requestID":          func(c *cloudTrail) *string { return &c.requestID },
	"eventID":            func(c *cloudTrail) *string { return &c.eventID },
	"recipientAccountId": func(c *cloudTrail) *string { return &c.recipientAccountID },
	"apiVersion":         func(c *cloudTrail) *string { return &c.apiVersion },
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("ocsf: cloudtrail: %w: %s", lakerelay.ErrInvalidRecord, fmt.Sprintf(format, args...))
}

func parseCloudTrail(raw []byte) (*cloudTrail, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("ocsf: cloudtrail: %w: %w", lakerelay.ErrInvalidRecord, err)
	}
	if fields == nil {
		return nil, invalid("record is null, want a JSON object")
	}
	ct := &cloudTrail{unmapped: map[string]any{}}
	for key, val := range fields {
		if isNull(val) {
			continue
		}
		if dst, ok := ctStrings[key]; ok {
			if err := json.Unmarshal(val, dst(ct)); err != nil {
				return nil, invalid("field %s: want a string", key)
			}
			continue
		}
		switch key {
		case "userIdentity":
			var id ctIdentity
			if err := json.Unmarshal(val, &id); err != nil {
				return nil, invalid("field userIdentity: %v", err)
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
				return nil, invalid("field resources: %v", err)
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
		return nil, invalid("field eventName is missing")
	}
	if ct.eventTime == "" {
		return nil, invalid("field eventTime is missing")
	}
	return ct, nil
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

func mapCloudTrail(raw []byte) (any, error) {
	ct, err := parseCloudTrail(raw)
	if err != nil {
		return nil, err
	}
	t, err := time.Parse(time.RFC3339, ct.eventTime)
	if err != nil {
		return nil, invalid("field eventTime is not an RFC 3339 time")
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
	if activity, name, ok := accountChangeActivity(ct); ok {
		ev := &AccountChange{BaseEvent: base, Actor: actor, API: api, HTTPRequest: httpReq, SrcEndpoint: src}
		ev.setClass(ClassAccountChange, CategoryIAM, activity, name)
		ev.User = ct.targetUser()
		ev.Policy = ct.policy()
		return ev, nil
	}
	activity := apiActivity(ct.eventName)
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

// setClass fills the classification attributes. activityName overrides the
// caption (for Other).
func (b *BaseEvent) setClass(classUID int, category CategoryUID, activity int32, activityName string) {
	s, _ := Builtin(Version)
	c := s.byUID[classUID]
	b.ClassUID, b.ClassName = int32(classUID), c.caption
	b.CategoryUID, b.CategoryName = category, c.categoryName
	b.ActivityID = activity
	caption := c.byName["activity_id"].enum[fmt.Sprint(activity)]
	if activityName == "" {
		activityName = caption
	}
	b.ActivityName = activityName
	b.TypeUID = TypeUID(classUID, activity)
	b.TypeName = c.caption + ": " + caption
}

// apiVerbs maps the leading word of an eventName to an API Activity.
var apiVerbs = map[string]int32{
	"Create": APIActivityCreate, "Run": APIActivityCreate, "Generate": APIActivityCreate,
	"Get": APIActivityRead, "List": APIActivityRead, "Describe": APIActivityRead, "Search": APIActivityRead, "Lookup": APIActivityRead,
	"Update": APIActivityUpdate, "Put": APIActivityUpdate, "Modify": APIActivityUpdate, "Add": APIActivityUpdate,
	"Remove": APIActivityUpdate, "Start": APIActivityUpdate, "Stop": APIActivityUpdate, "Attach": APIActivityUpdate,
	"Detach": APIActivityUpdate, "Associate": APIActivityUpdate, "Disassociate": APIActivityUpdate, "Tag": APIActivityUpdate,
	"Untag": APIActivityUpdate, "Enable": APIActivityUpdate, "Disable": APIActivityUpdate, "Register": APIActivityUpdate,
	"Deregister": APIActivityUpdate,
	"Delete":     APIActivityDelete, "Terminate": APIActivityDelete,
}

// leadingWord returns the first word of a CamelCase name: "GenerateDataKey"
// → "Generate", "ListFunctions20150331" → "List".
func leadingWord(name string) string {
	for i, r := range name {
		if i > 0 && (unicode.IsUpper(r) || unicode.IsDigit(r) || !unicode.IsLetter(r)) {
			return name[:i]
		}
	}
	return name
}

func apiActivity(eventName string) int32 {
	w := leadingWord(eventName)
	if w != "" {
		w = strings.ToUpper(w[:1]) + w[1:]
	}
	if a, ok := apiVerbs[w]; ok {
		return a
	}
	return ActivityOther
}

func authenticationActivity(eventName string) (int32, bool) {
	switch eventName {
	case "ConsoleLogin", "SwitchRole":
		return AuthenticationLogon, true
	case "ConsoleLogout", "ExitRole":
		return AuthenticationLogoff, true
	case "AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "AssumeRoot",
		"GetSessionToken", "GetFederationToken":
		return AuthenticationTicket, true
	}
	return 0, false
}

// accountChangeActivity classifies IAM user and credential changes.
func accountChangeActivity(ct *cloudTrail) (int32, string, bool) {
	if ct.eventSource != "" && ct.eventSource != "iam.amazonaws.com" {
		return 0, "", false
	}
	switch ct.eventName {
	case "CreateUser":
		return AccountChangeCreate, "", true
	case "DeleteUser":
		return AccountChangeDelete, "", true
	case "ChangePassword":
		return AccountChangePasswordChange, "", true
	case "UpdateLoginProfile":
		return AccountChangePasswordReset, "", true
	case "CreateLoginProfile":
		return AccountChangeEnable, "", true
	case "DeleteLoginProfile":
		return AccountChangeDisable, "", true
	case "AttachUserPolicy", "PutUserPolicy":
		return AccountChangeAttachPolicy, "", true
	case "DetachUserPolicy", "DeleteUserPolicy":
		return AccountChangeDetachPolicy, "", true
	case "EnableMFADevice":
		return AccountChangeMFAFactorEnable, "", true
	case "DeactivateMFADevice":
		return AccountChangeMFAFactorDisable, "", true
	case "UpdateAccessKey":
		var p struct {
			Status string `json:"status"`
		}
		_ = json.Unmarshal(ct.requestParameters, &p) // absent or odd: Other below
		switch p.Status {
		case "Active":
			return AccountChangeEnable, "", true
		case "Inactive":
			return AccountChangeDisable, "", true
		}
		return ActivityOther, ct.eventName, true
	case "CreateAccessKey", "DeleteAccessKey", "UpdateUser", "CreateServiceSpecificCredential",
		"DeleteServiceSpecificCredential", "UploadSSHPublicKey", "DeleteSSHPublicKey", "UploadSigningCertificate",
		"DeleteSigningCertificate":
		return ActivityOther, ct.eventName, true
	}
	return 0, "", false
}

func (ct *cloudTrail) actor() *Actor {
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
func (ct *cloudTrail) identityUser() *User {
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

func (ct *cloudTrail) srcEndpoint() *NetworkEndpoint {
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

func (ct *cloudTrail) consoleLogin(ev *Authentication) {
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
func (ct *cloudTrail) issuedSession() *Session {
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

// parseCloudTrailTime parses RFC 3339 or the "Jan 2, 2006, 3:04:05 PM" form
// STS uses in responseElements.
func parseCloudTrailTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse("Jan 2, 2006, 3:04:05 PM", s)
}

// targetUser is the IAM user an account change acts on: the userName request
// parameter (the caller itself when absent), with the ARN and id from the
// response when it has them.
func (ct *cloudTrail) targetUser() *User {
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

func (ct *cloudTrail) policy() *Policy {
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

func boolPtr(b bool) *bool { return &b }
