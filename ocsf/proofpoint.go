package ocsf

import (
	"regexp"
	"strings"
	"time"
)

// MapProofpoint maps one message event of Proofpoint Targeted Attack
// Protection's SIEM API (an element of messagesDelivered or
// messagesBlocked) to an OCSF 1.1.0 Email Activity (4009) event, compact
// JSON: activity Scan; disposition Blocked (action Denied) when the
// message was quarantined (quarantineFolder set, as for blocked messages),
// else Allowed; direction from policyRoutes (a route named *inbound* or
// *outbound*), else Unknown; email from the header and envelope addresses
// (fromAddress, toAddresses, ccAddresses, replyToAddress, sender,
// recipient), subject, messageID, GUID and messageSize; senderIP as
// src_endpoint; time from messageTime. Scores, threats and message parts
// are kept under unmapped.
//
// The error wraps lakerelay.ErrInvalidRecord when raw is not a JSON object,
// lacks messageTime or a sender and recipient, holds an address that is no
// email address, has a field of the wrong type, or is a click event
// (clicksPermitted, clicksBlocked: no OCSF 1.1.0 class fits them as well;
// they are quarantined by callers, not dropped).
func MapProofpoint(raw []byte) ([]byte, error) {
	return mapFlat("proofpoint", raw, func(e *flatEvent) (any, error) { return mapProofpoint(e) })
}

// ProofpointClasses are the classes [MapProofpoint] emits.
var ProofpointClasses = []int{ClassEmailActivity}

var emailRE = regexp.MustCompile(`^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$`) // email_t

func mapProofpoint(e *flatEvent) (*EmailActivity, error) {
	if _, click := e.m["clickTime"]; click {
		return nil, e.invalid("click events (clicksPermitted, clicksBlocked) have no OCSF mapping here; mapped: message events")
	}
	ts := e.str("messageTime")
	if ts == "" {
		return nil, e.invalid("field messageTime is missing (not a message event)")
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return nil, e.invalid("field messageTime %q is not an RFC 3339 time", ts)
	}
	base := baseEvent(t, Product{Name: "Targeted Attack Protection", VendorName: "Proofpoint"}, e.str("GUID"))
	base.Metadata.Profiles = []string{"security_control", "datetime"}
	base.Metadata.OriginalTime = ts
	base.Metadata.CorrelationUID = e.str("QID")
	base.Status, base.StatusID = "Success", StatusSuccess
	ev := &EmailActivity{BaseEvent: base}
	ev.setClass(ClassEmailActivity, CategoryNetwork, EmailActivityScan, "")

	m := &Email{
		Subject:    e.str("subject"),
		MessageUID: e.str("messageID"),
		UID:        ev.Metadata.UID,
		SMTPFrom:   e.str("sender"),
		SMTPTo:     e.strs("recipient"),
		To:         e.strs("toAddresses"),
		CC:         e.strs("ccAddresses"),
	}
	if size, ok := e.int("messageSize"); ok {
		m.Size = size
	}
	keep := map[string]any{} // address lists of which OCSF holds only the first
	if from := e.strs("fromAddress"); len(from) > 0 {
		m.From = from[0]
		if len(from) > 1 {
			keep["fromAddress"] = from
		}
	} else {
		m.From = m.SMTPFrom
	}
	if len(m.To) == 0 {
		m.To = m.SMTPTo
	}
	if reply := e.strs("replyToAddress"); len(reply) > 0 {
		m.ReplyTo = reply[0]
		if len(reply) > 1 {
			keep["replyToAddress"] = reply
		}
	}
	if e.err != nil {
		return nil, e.err
	}
	if m.From == "" || len(m.To) == 0 {
		return nil, e.invalid("fields fromAddress/sender and toAddresses/recipient must name a sender and a recipient")
	}
	for _, f := range []struct {
		name  string
		addrs []string
	}{{"fromAddress", []string{m.From}}, {"replyToAddress", []string{m.ReplyTo}}, {"sender", []string{m.SMTPFrom}},
		{"toAddresses", m.To}, {"ccAddresses", m.CC}, {"recipient", m.SMTPTo}} {
		for i, a := range f.addrs {
			if a != "" && !emailRE.MatchString(a) {
				return nil, e.invalid("field %s[%d] %q is not an email address", f.name, i, a)
			}
		}
	}
	ev.Email = m
	if ip := e.str("senderIP"); ip != "" {
		if !validIP(ip) {
			return nil, e.invalid("field senderIP %q is not an IP address", ip)
		}
		ev.SrcEndpoint = &NetworkEndpoint{IP: ip}
	}
	routes := e.strs("policyRoutes")
	ev.Direction, ev.DirectionID = "Unknown", 0
	for _, r := range routes {
		switch {
		case strings.Contains(r, "inbound"):
			ev.Direction, ev.DirectionID = "Inbound", 1
		case strings.Contains(r, "outbound"):
			ev.Direction, ev.DirectionID = "Outbound", 2
		}
	}
	ev.Action, ev.ActionID = "Allowed", 1
	ev.Disposition, ev.DispositionID = "Allowed", 1
	if folder := e.str("quarantineFolder"); folder != "" {
		ev.Action, ev.ActionID = "Denied", 2
		ev.Disposition, ev.DispositionID = "Blocked", 2
		ev.StatusDetail = "quarantined to " + folder
	}
	if e.err != nil {
		return nil, e.err
	}
	if len(routes) > 0 {
		keep["policyRoutes"] = routes
	}
	for k, v := range keep {
		e.m[k] = v
	}
	ev.Unmapped = e.unmapped()
	return ev, nil
}
