package ocsf

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
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
// kept verbatim under unmapped (sorted by name, without insignificant white
// space, escapes as written), so nothing is lost.
//
// The record is read as encoding/json reads JSON into Go values: top-level
// names match exactly; names inside userIdentity, resources[] and the
// request and response objects match as encoding/json matches struct
// fields, exactly or else case-insensitively ("ARN", "arn"); of duplicate
// members the last one counts, and a null member counts as absent (inside
// objects: leaves the value before it); strings are decoded, invalid UTF-8
// becoming U+FFFD.
//
// The error wraps lakerelay.ErrInvalidRecord when raw is not a JSON object,
// lacks eventName or eventTime, or has a field of the wrong JSON type; it
// names the field path (userIdentity.sessionContext.attributes,
// resources[2].ARN) or, for invalid JSON, the offset. MapCloudTrail is safe
// for concurrent use and does not retain raw.
func MapCloudTrail(raw []byte) ([]byte, error) {
	r := ctRecords.Get().(*ctRecord)
	defer r.release()
	out, err := r.appendMapped(r.scratch[:0], raw)
	if err != nil {
		return nil, err
	}
	r.scratch = out
	event := make([]byte, len(out)) // of the exact size: callers keep events
	copy(event, out)
	return event, nil
}

// AppendCloudTrail appends the event MapCloudTrail returns for raw to dst
// and returns the extended slice; on error it returns dst unchanged (bytes
// past its length may have been written) and MapCloudTrail's error. A caller
// mapping many records reuses one buffer (dst[:0]), or appends the events
// one after another, without an allocation per event (MapCloudTrail makes
// one: the slice it returns). It is safe for concurrent use and retains
// neither raw nor dst.
func AppendCloudTrail(dst, raw []byte) ([]byte, error) {
	r := ctRecords.Get().(*ctRecord)
	defer r.release()
	return r.appendMapped(dst, raw)
}

// appendMapped reads raw into r and appends its event to dst.
func (r *ctRecord) appendMapped(dst, raw []byte) ([]byte, error) {
	if err := r.read(raw); err != nil {
		return dst, err
	}
	t, err := time.Parse(time.RFC3339, r.eventTime)
	if err != nil {
		return dst, invalid("field eventTime is not an RFC 3339 time")
	}
	t = t.UTC().Truncate(time.Millisecond)
	if y := t.Year(); y < 0 || y > 9999 {
		// time_dt could not be written as RFC 3339.
		return dst, invalid("field eventTime is in the year %d in UTC, outside 0 to 9999", y)
	}
	return r.appendEvent(dst, t), nil
}

// ctRecords recycles ctRecord's lists and MapCloudTrail's buffer.
var ctRecords = sync.Pool{New: func() any { return new(ctRecord) }}

// release clears r, which holds views of the record it read, and puts it
// back into ctRecords, unless a huge record made its lists or buffer huge.
func (r *ctRecord) release() {
	clear(r.unmapped)
	clear(r.identityRest)
	clear(r.resources)
	*r = ctRecord{
		unmapped: r.unmapped[:0], identityRest: r.identityRest[:0], resources: r.resources[:0],
		scratch: r.scratch[:0],
	}
	if cap(r.unmapped)+cap(r.identityRest)+cap(r.resources) <= 1024 && cap(r.scratch) <= 1<<16 {
		ctRecords.Put(r)
	}
}

// optBool is an optional boolean attribute (a *bool of the OCSF types).
type optBool int8

const (
	unset optBool = iota
	isFalse
	isTrue
)

// ctUser is an OCSF user as the CloudTrail mapping fills it; account is
// the uid of its AWS account, "" for none.
type ctUser struct{ account, credentialUID, name, typ, uid, uidAlt string }

// ctSession is an OCSF session as the CloudTrail mapping fills it.
type ctSession struct {
	createdTime, expirationTime Timestamp
	credentialUID, issuer, uid  string
	isMFA                       optBool
}

// appendEvent appends the OCSF event of r at t (UTC, whole milliseconds):
// the attributes of the OCSF Go types in their order, omitempty honoured,
// as encoding/json writes them.
func (r *ctRecord) appendEvent(b []byte, t time.Time) []byte {
	classUID, activity, activityName := r.classify()
	class := eventClassOf(classUID, activity)
	if activityName == "" {
		activityName = class.ActivityName
	}
	status, statusID, statusCode, statusDetail := "Success", StatusSuccess, "", ""
	if r.errorCode != "" {
		status, statusID, statusCode, statusDetail = "Failure", StatusFailure, r.errorCode, r.errorMessage
	}
	var isMFA, isRemote optBool
	consoleLogin := classUID == ClassAuthentication && r.eventName == "ConsoleLogin"
	if consoleLogin {
		var resp, extra [1]string
		decodeStrings(r.responseElements, consoleLoginFields[:], resp[:]) // absent: errorCode decides
		decodeStrings(r.additionalEventData, mfaUsedFields[:], extra[:])
		switch resp[0] {
		case "Success":
			status, statusID = "Success", StatusSuccess
		case "Failure":
			status, statusID = "Failure", StatusFailure
			if statusDetail == "" {
				statusDetail = r.errorMessage
			}
		}
		switch extra[0] {
		case "Yes":
			isMFA = isTrue
		case "No":
			isMFA = isFalse
		}
		isRemote = isTrue
	}

	o := len(b)
	b = append(b, '{')
	b = intMember(b, o, "activity_id", int64(activity))
	b = strMember(b, o, "activity_name", activityName)
	b = strMember(b, o, "category_name", class.CategoryName)
	b = intMember(b, o, "category_uid", int64(class.CategoryUID))
	b = strMember(b, o, "class_name", class.ClassName)
	b = intMember(b, o, "class_uid", int64(class.ClassUID))
	b = r.appendCloud(key(b, o, "cloud"))
	b = r.appendMetadata(key(b, o, "metadata"))
	b = strMember(b, o, "severity", "Informational")
	b = intMember(b, o, "severity_id", int64(SeverityInformational))
	b = strMember(b, o, "status", status)
	b = strMember(b, o, "status_code", statusCode)
	b = strMember(b, o, "status_detail", statusDetail)
	b = intMember(b, o, "status_id", int64(statusID))
	b = intMember(b, o, "time", t.UnixMilli())
	b = append(t.AppendFormat(append(key(b, o, "time_dt"), '"'), time.RFC3339Nano), '"')
	b = strMember(b, o, "type_name", class.TypeName)
	b = intMember(b, o, "type_uid", class.TypeUID)
	if len(r.identityRest) > 0 {
		r.unmapped = append(r.unmapped, ctMember{key: "userIdentity"}) // nil value: identityRest
	}
	if len(r.unmapped) > 0 {
		n := len(b)
		b = key(b, o, "unmapped")
		m := len(b)
		if b = appendMembers(b, r.unmapped, true, r.identityRest); len(b) == m+len("{}") {
			b = b[:n] // every member was null: omitted
		}
	}

	b = r.appendActor(key(b, o, "actor"))
	b = r.appendAPI(key(b, o, "api"))
	switch classUID {
	case ClassAuthentication:
		b = r.appendHTTPRequest(b, o)
		if isMFA != unset {
			b = strconv.AppendBool(key(b, o, "is_mfa"), isMFA == isTrue)
		}
		if isRemote != unset {
			b = strconv.AppendBool(key(b, o, "is_remote"), isRemote == isTrue)
		}
		service := r.eventSource
		if service == "" {
			service = "sts.amazonaws.com"
			if activity != AuthenticationTicket {
				service = "signin.amazonaws.com"
			}
		}
		b = appendService(key(b, o, "service"), service)
		if !consoleLogin && activity == AuthenticationTicket {
			if s, ok := r.issuedSession(); ok {
				b = appendSession(key(b, o, "session"), &s)
			}
		}
		b = r.appendSrcEndpoint(key(b, o, "src_endpoint"))
		u, ok := r.identityUser()
		if !ok {
			u = ctUser{name: "unknown"}
			if r.recipientAccountID != "" {
				u = ctUser{account: r.recipientAccountID}
			}
		}
		b = appendUser(key(b, o, "user"), &u)
	case ClassAccountChange:
		b = r.appendHTTPRequest(b, o)
		b = r.appendPolicy(b, o)
		b = r.appendSrcEndpoint(key(b, o, "src_endpoint"))
		u := r.targetUser()
		b = appendUser(key(b, o, "user"), &u)
	default:
		b = r.appendHTTPRequest(b, o)
		b = r.appendResources(b, o)
		b = r.appendSrcEndpoint(key(b, o, "src_endpoint"))
	}
	return append(b, '}')
}

// Field names of the request and response objects the mapping reads.
var (
	consoleLoginFields    = [...]string{"ConsoleLogin"}
	mfaUsedFields         = [...]string{"MFAUsed"}
	statusFields          = [...]string{"status"}
	roleARNFields         = [...]string{"roleArn"}
	userNameFields        = [...]string{"userName"}
	policyFields          = [...]string{"policyArn", "policyName"}
	stsResponseFields     = [...]string{"credentials", "assumedRoleUser"}
	credentialsFields     = [...]string{"accessKeyId", "expiration"}
	assumedRoleUserFields = [...]string{"arn"}
	iamResponseFields     = [...]string{"user", "accessKey"}
	iamUserFields         = [...]string{"arn", "userId"}
	accessKeyFields       = [...]string{"accessKeyId", "userName"}
)

// classify returns the class, activity and, for Other, the activity name of
// the event.
func (r *ctRecord) classify() (classUID int, activity int32, activityName string) {
	if a, ok := authenticationActivity(r.eventName); ok {
		return ClassAuthentication, a, ""
	}
	if a, name, ok := accountChangeActivity(r.eventSource, r.eventName, r.accessKeyStatus); ok {
		return ClassAccountChange, a, name
	}
	a := apiActivity(r.eventName)
	if a == ActivityOther {
		activityName = r.eventName
	}
	return ClassAPIActivity, a, activityName
}

// eventClasses holds the classification attributes setClass fills, by
// type_uid, for every activity of the built-in classes.
var eventClasses = sync.OnceValue(func() map[int64]*BaseEvent {
	m := map[int64]*BaseEvent{}
	for _, c := range builtinClasses110 {
		for id := range c.activities {
			n, err := strconv.Atoi(id)
			if err != nil {
				continue
			}
			b := &BaseEvent{}
			b.setClass(c.uid, c.category, int32(n), "")
			m[b.TypeUID] = b
		}
	}
	return m
})

// eventClassOf returns the classification attributes of a class and
// activity.
func eventClassOf(classUID int, activity int32) *BaseEvent {
	if b, ok := eventClasses()[TypeUID(classUID, activity)]; ok {
		return b
	}
	b := &BaseEvent{} // not a built-in activity: setClass says what it is
	b.setClass(classUID, CategoryUID(classUID/1000), activity, "")
	return b
}

func (r *ctRecord) appendCloud(b []byte) []byte {
	o := len(b)
	b = append(b, '{')
	if r.recipientAccountID != "" {
		b = appendAccount(key(b, o, "account"), r.recipientAccountID)
	}
	b = strMember(b, o, "provider", "AWS")
	b = strMember(b, o, "region", r.awsRegion)
	return append(b, '}')
}

func (r *ctRecord) appendMetadata(b []byte) []byte {
	o := len(b)
	b = append(b, `{"product":{"name":"CloudTrail","vendor_name":"AWS"`...)
	if r.eventVersion != "" {
		b = appendString(append(b, `,"version":`...), r.eventVersion)
	}
	b = append(b, `},"profiles":["cloud","datetime"]`...)
	b = strMember(b, o, "uid", r.eventID)
	b = strMember(b, o, "version", Version)
	return append(b, '}')
}

// appendAccount appends an AWS account.
func appendAccount(b []byte, uid string) []byte {
	o := len(b)
	b = append(b, `{"type":"AWS Account","type_id":10`...)
	b = strMember(b, o, "uid", uid)
	return append(b, '}')
}

func appendService(b []byte, name string) []byte {
	o := len(b)
	b = append(b, '{')
	b = strMember(b, o, "name", name)
	return append(b, '}')
}

func appendUser(b []byte, u *ctUser) []byte {
	o := len(b)
	b = append(b, '{')
	if u.account != "" {
		b = appendAccount(key(b, o, "account"), u.account)
	}
	b = strMember(b, o, "credential_uid", u.credentialUID)
	b = strMember(b, o, "name", u.name)
	b = strMember(b, o, "type", u.typ)
	b = strMember(b, o, "uid", u.uid)
	b = strMember(b, o, "uid_alt", u.uidAlt)
	return append(b, '}')
}

func appendSession(b []byte, s *ctSession) []byte {
	o := len(b)
	b = append(b, '{')
	if s.createdTime != 0 {
		b = intMember(b, o, "created_time", int64(s.createdTime))
	}
	b = strMember(b, o, "credential_uid", s.credentialUID)
	if s.expirationTime != 0 {
		b = intMember(b, o, "expiration_time", int64(s.expirationTime))
	}
	if s.isMFA != unset {
		b = strconv.AppendBool(key(b, o, "is_mfa"), s.isMFA == isTrue)
	}
	b = strMember(b, o, "issuer", s.issuer)
	b = strMember(b, o, "uid", s.uid)
	return append(b, '}')
}

// appendActor appends the actor: userIdentity's user and session, or who
// invoked the call.
func (r *ctRecord) appendActor(b []byte) []byte {
	o := len(b)
	b = append(b, '{')
	id := &r.identity
	if !id.present {
		b = strMember(b, o, "invoked_by", "unknown")
		return append(b, '}')
	}
	invokedBy := id.invokedBy
	u, hasUser := r.identityUser()
	var s ctSession
	hasSession := false
	if id.hasSession {
		s.credentialUID = id.accessKeyID
		sc := &id.session
		if sc.hasIssuer {
			s.issuer = sc.issuer[issuerARN]
		}
		if sc.hasAttributes {
			if cd := sc.attributes[attrCreationDate]; maybeRFC3339(cd) {
				if ts, err := time.Parse(time.RFC3339, cd); err == nil {
					s.createdTime = TimestampOf(ts)
				}
			}
			switch sc.attributes[attrMFA] {
			case "true":
				s.isMFA = isTrue
			case "false":
				s.isMFA = isFalse
			}
		}
		hasSession = s.issuer != "" || s.createdTime != 0 || s.isMFA != unset
	}
	if !hasUser && invokedBy == "" && !hasSession {
		invokedBy = "unknown" // actor must name at least one of its parts
	}
	b = strMember(b, o, "invoked_by", invokedBy)
	if hasSession {
		b = appendSession(key(b, o, "session"), &s)
	}
	if hasUser {
		b = appendUser(key(b, o, "user"), &u)
	}
	return append(b, '}')
}

// identityUser maps userIdentity to a user; false when it names none.
func (r *ctRecord) identityUser() (ctUser, bool) {
	id := &r.identity
	if !id.present {
		return ctUser{}, false
	}
	u := ctUser{uid: id.arn, uidAlt: id.principalID, typ: id.typ, credentialUID: id.accessKeyID, name: id.userName, account: id.accountID}
	if u.name == "" && id.hasSession && id.session.hasIssuer {
		u.name = id.session.issuer[issuerUserName]
	}
	if id.typ == "AWSService" && u.name == "" {
		u.name = id.invokedBy
	}
	return u, u.uid != "" || u.name != "" || u.account != ""
}

func (r *ctRecord) appendAPI(b []byte) []byte {
	o := len(b)
	b = append(b, '{')
	b = appendString(key(b, o, "operation"), r.eventName)
	if r.requestID != "" {
		b = append(appendString(append(key(b, o, "request"), `{"uid":`...), r.requestID), '}')
	}
	if r.errorCode != "" || r.errorMessage != "" {
		b = key(b, o, "response")
		p := len(b)
		b = append(b, '{')
		b = strMember(b, p, "error", r.errorCode)
		b = strMember(b, p, "message", r.errorMessage)
		b = append(b, '}')
	}
	if r.eventSource != "" {
		b = appendService(key(b, o, "service"), r.eventSource)
	}
	b = strMember(b, o, "version", r.apiVersion)
	return append(b, '}')
}

// appendHTTPRequest appends the member http_request of the object at b[o]
// when there is a user agent.
func (r *ctRecord) appendHTTPRequest(b []byte, o int) []byte {
	if r.userAgent == "" {
		return b
	}
	return append(appendString(append(key(b, o, "http_request"), `{"user_agent":`...), r.userAgent), '}')
}

// appendSrcEndpoint appends the caller: sourceIPAddress as an address, a
// service or a name.
func (r *ctRecord) appendSrcEndpoint(b []byte) []byte {
	v, named := r.sourceIP, "name"
	switch {
	case v == "" && r.eventSource == "":
		return append(b, `{"name":"unknown"}`...)
	case v == "":
		// Service events carry no caller address: the service itself acted.
		v, named = r.eventSource, "svc_name"
	case validIP(v):
		return append(appendString(append(b, `{"ip":`...), v), '}')
	case strings.HasSuffix(v, ".amazonaws.com"):
		named = "svc_name"
	}
	b = appendString(append(b, `{"domain":`...), v)
	return append(appendString(append(append(append(b, ",\""...), named...), "\":"...), v), '}')
}

// appendResources appends the member resources of the object at b[o]: the
// resources with an ARN or a type.
func (r *ctRecord) appendResources(b []byte, o int) []byte {
	n := len(b)
	b = append(key(b, o, "resources"), '[')
	a := len(b)
	for _, res := range r.resources {
		uid, typ, name := res[resourceARN], res[resourceType], ""
		if uid == "" && typ != "" {
			name = typ // keep the constraint (name or uid) satisfied
		}
		if uid == "" && name == "" {
			continue
		}
		if len(b) > a {
			b = append(b, ',')
		}
		p := len(b)
		b = append(b, '{')
		b = strMember(b, p, "name", name)
		if acct := res[resourceAccountID]; acct != "" {
			b = append(appendAccount(append(key(b, p, "owner"), `{"account":`...), acct), '}')
		}
		b = strMember(b, p, "type", typ)
		b = strMember(b, p, "uid", uid)
		b = append(b, '}')
	}
	if len(b) == a {
		return b[:n] // none: omitted
	}
	return append(b, ']')
}

// accountChangeActivity classifies IAM user and credential changes; status
// returns the status request parameter, read for UpdateAccessKey only.
func accountChangeActivity(eventSource, eventName string, status func() string) (int32, string, bool) {
	if eventSource != "" && eventSource != "iam.amazonaws.com" {
		return 0, "", false
	}
	switch eventName {
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
		switch status() { // absent or odd: Other below
		case "Active":
			return AccountChangeEnable, "", true
		case "Inactive":
			return AccountChangeDisable, "", true
		}
		return ActivityOther, eventName, true
	case "CreateAccessKey", "DeleteAccessKey", "UpdateUser", "CreateServiceSpecificCredential",
		"DeleteServiceSpecificCredential", "UploadSSHPublicKey", "DeleteSSHPublicKey", "UploadSigningCertificate",
		"DeleteSigningCertificate":
		return ActivityOther, eventName, true
	}
	return 0, "", false
}

// accessKeyStatus is requestParameters.status.
func (r *ctRecord) accessKeyStatus() string {
	var status [1]string
	decodeStrings(r.requestParameters, statusFields[:], status[:])
	return status[0]
}

// issuedSession describes the temporary credentials an STS call returned;
// false when there are none, or responseElements has a member of the wrong
// type where they are read.
func (r *ctRecord) issuedSession() (ctSession, bool) {
	v := r.responseElements
	if len(v) == 0 || v[0] != '{' {
		return ctSession{}, false
	}
	var cred [2]string // credentialsFields
	var role [1]string // assumedRoleUserFields
	for k, val := range members(v) {
		switch i, _ := fieldIndex(k, stsResponseFields[:]); i {
		case 0:
			if decodeStrings(val, credentialsFields[:], cred[:]) >= 0 {
				return ctSession{}, false
			}
		case 1:
			if decodeStrings(val, assumedRoleUserFields[:], role[:]) >= 0 {
				return ctSession{}, false
			}
		}
	}
	s := ctSession{credentialUID: cred[0], uid: role[0]}
	if exp, err := parseCloudTrailTime(cred[1]); err == nil {
		s.expirationTime = TimestampOf(exp)
	}
	if s.credentialUID == "" && s.uid == "" {
		return ctSession{}, false
	}
	var req [1]string
	decodeStrings(r.requestParameters, roleARNFields[:], req[:])
	s.issuer = req[0]
	return s, true
}

// targetUser is the IAM user an account change acts on: the userName request
// parameter (the caller itself when absent), with the ARN and id from the
// response when it has them.
func (r *ctRecord) targetUser() ctUser {
	var req [1]string
	decodeStrings(r.requestParameters, userNameFields[:], req[:])
	var user, accessKey [2]string // iamUserFields, accessKeyFields
	if v := r.responseElements; len(v) > 0 && v[0] == '{' {
		for k, val := range members(v) {
			switch i, _ := fieldIndex(k, iamResponseFields[:]); i {
			case 0:
				decodeStrings(val, iamUserFields[:], user[:])
			case 1:
				decodeStrings(val, accessKeyFields[:], accessKey[:])
			}
		}
	}
	name := req[0]
	if name == "" {
		name = accessKey[1]
	}
	if name == "" {
		if u, ok := r.identityUser(); ok {
			return u
		}
	}
	u := ctUser{name: name, uid: user[0], uidAlt: user[1], credentialUID: accessKey[0], account: r.recipientAccountID}
	if u.account == "" && r.identity.present {
		u.account = r.identity.accountID
	}
	if u.name == "" && u.uid == "" && u.account == "" {
		u.name = "unknown"
	}
	return u
}

// appendPolicy appends the member policy of the object at b[o] when the
// request names one.
func (r *ctRecord) appendPolicy(b []byte, o int) []byte {
	var p [2]string // policyFields
	if decodeStrings(r.requestParameters, policyFields[:], p[:]) >= 0 || (p[0] == "" && p[1] == "") {
		return b
	}
	arn, name := p[0], p[1]
	if name == "" {
		if i := strings.LastIndexByte(arn, '/'); i >= 0 {
			name = arn[i+1:]
		}
	}
	b = key(b, o, "policy")
	q := len(b)
	b = append(b, '{')
	b = strMember(b, q, "name", name)
	b = strMember(b, q, "uid", arn)
	return append(b, '}')
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
	// The leading word with its first byte upper-cased, as a lookup key
	// (no verb is longer than the buffer).
	w := leadingWord(eventName)
	var buf [16]byte
	if w == "" || len(w) > len(buf) {
		return ActivityOther
	}
	n := copy(buf[:], w)
	if c := buf[0]; 'a' <= c && c <= 'z' {
		buf[0] = c - 'a' + 'A'
	}
	if a, ok := apiVerbs[string(buf[:n])]; ok {
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

// parseCloudTrailTime parses RFC 3339 or the "Jan 2, 2006, 3:04:05 PM" form
// STS uses in responseElements.
func parseCloudTrailTime(s string) (time.Time, error) {
	if !maybeRFC3339(s) {
		return time.Parse("Jan 2, 2006, 3:04:05 PM", s)
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse("Jan 2, 2006, 3:04:05 PM", s)
}

// maybeRFC3339 is false for strings time.Parse cannot read as RFC 3339
// (its 4-digit year is followed by '-'), sparing the error it allocates.
func maybeRFC3339(s string) bool { return len(s) > 4 && s[4] == '-' }

func boolPtr(b bool) *bool { return &b }
