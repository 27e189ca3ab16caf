package ocsf

import (
	"time"
)

// MapTeleport maps one Teleport audit event (one JSON line of the audit
// log) to an OCSF 1.1.0 Authentication (3002) event, compact JSON:
//
//   - user.login → Logon: status from success (status_detail error),
//     auth_protocol from method (saml, oidc, github; local and others are
//     Other), is_mfa when an MFA device was used, the client address
//     (addr.remote) as src_endpoint and user_agent;
//   - session.start → Logon and session.end → Logoff of an interactive
//     remote session (logon_type Remote Interactive, is_remote): session
//     uid sid, the node (server_id, server_hostname, server_addr) as
//     dst_endpoint, addr.remote as src_endpoint; session.end takes
//     start_time and end_time from session_start and session_stop.
//
// user is the Teleport user (user), service is Teleport, metadata has
// product Teleport, uid uid, event_code code and tenant_uid cluster_name;
// time is time (RFC 3339). Fields without an OCSF attribute (login,
// participants, proto, ...) are kept under unmapped.
//
// The error wraps lakerelay.ErrInvalidRecord when raw is not a JSON object,
// lacks event, time or user, has a field of the wrong type, or is an event
// type with no mapping here.
func MapTeleport(raw []byte) ([]byte, error) {
	return mapFlat("teleport", raw, func(e *flatEvent) (any, error) { return mapTeleport(e) })
}

// TeleportClasses are the classes [MapTeleport] emits.
var TeleportClasses = []int{ClassAuthentication}

func mapTeleport(e *flatEvent) (*Authentication, error) {
	name := e.str("event")
	if name == "" {
		return nil, e.invalid("field event is missing")
	}
	var activity int32
	switch name {
	case "user.login", "session.start":
		activity = AuthenticationLogon
	case "session.end":
		activity = AuthenticationLogoff
	default:
		return nil, e.invalid("event %q has no OCSF mapping (mapped: user.login, session.start, session.end)", name)
	}
	ts := e.str("time")
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return nil, e.invalid("field time %q is not an RFC 3339 time", ts)
	}
	user := e.str("user")
	if user == "" {
		return nil, e.invalid("field user is missing")
	}
	base := baseEvent(t, Product{Name: "Teleport", VendorName: "Teleport"}, e.str("uid"))
	base.Metadata.EventCode = e.str("code")
	base.Metadata.TenantUID = e.str("cluster_name")
	base.Metadata.OriginalTime = ts
	ev := &Authentication{BaseEvent: base, User: &User{Name: user}, Service: &Service{Name: "Teleport"}}
	ev.setClass(ClassAuthentication, CategoryIAM, activity, "")
	ev.SrcEndpoint = endpoint(e.str("addr.remote"))
	ev.Status, ev.StatusID = "Success", StatusSuccess

	switch name {
	case "user.login":
		if ok, present := e.bool("success"); present && !ok {
			ev.Status, ev.StatusID = "Failure", StatusFailure
			ev.StatusDetail = e.str("error")
		}
		switch method := e.str("method"); method {
		case "":
		case "saml":
			ev.AuthProtocol, ev.AuthProtocolID = "SAML", 5
		case "oidc":
			ev.AuthProtocol, ev.AuthProtocolID = "OpenID", 4
		case "github":
			ev.AuthProtocol, ev.AuthProtocolID = "OAUTH 2.0", 6
		default:
			ev.AuthProtocol, ev.AuthProtocolID = method, 99
		}
		if mfa, ok := e.m["mfa_device"]; ok && mfa != nil {
			ev.IsMFA = boolPtr(true) // the device itself stays under unmapped
		}
		if ua := e.str("user_agent"); ua != "" {
			ev.HTTPRequest = &HTTPRequest{UserAgent: ua}
		}
	case "session.start", "session.end":
		remote := int32(10) // Remote Interactive
		ev.LogonType, ev.LogonTypeID = "Remote Interactive", &remote
		ev.IsRemote = boolPtr(true)
		ev.Session = &Session{UID: e.str("sid")}
		dst := &NetworkEndpoint{UID: e.str("server_id"), Hostname: e.str("server_hostname")}
		if addr := endpoint(e.str("server_addr")); addr != nil {
			dst.IP, dst.Port = addr.IP, addr.Port
		}
		if dst.UID != "" || dst.Hostname != "" || dst.IP != "" {
			ev.DstEndpoint = dst
		}
		if name == "session.end" {
			for _, f := range []struct {
				name string
				to   *Timestamp
			}{{"session_start", &ev.StartTime}, {"session_stop", &ev.EndTime}} {
				if s := e.str(f.name); s != "" {
					st, err := time.Parse(time.RFC3339Nano, s)
					if err != nil {
						return nil, e.invalid("field %s %q is not an RFC 3339 time", f.name, s)
					}
					*f.to = TimestampOf(st)
				}
			}
			if ev.StartTime != 0 {
				ev.Session.CreatedTime = ev.StartTime
			}
		}
	}
	if e.err != nil {
		return nil, e.err
	}
	ev.Unmapped = e.unmapped()
	return ev, nil
}
