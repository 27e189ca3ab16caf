package ocsf

import (
	"net/netip"
	"strings"
	"time"
)

// MapCrowdStrike maps one CrowdStrike Falcon Data Replicator event (one line
// of an FDR data file) to an OCSF 1.1.0 event, compact JSON:
//
//   - ProcessRollup2 and SyntheticProcessRollup2 (a process started) →
//     Process Activity (1007), Launch: process (uid TargetProcessId, pid
//     RawProcessId, cmd_line CommandLine, file from ImageFileName with the
//     SHA256HashData and MD5HashData hashes, user UserSid/UserName,
//     created_time ProcessStartTime), its parent (ParentProcessId,
//     ParentBaseFileName) as actor;
//   - NetworkConnectIP4 (outbound) and NetworkReceiveAcceptIP4 (inbound) →
//     Network Activity (4001), Open: the local and remote addresses and
//     ports as source and destination by direction, Protocol as
//     connection_info.protocol_num.
//
// Both set device (uid aid, hostname ComputerName, os from event_platform),
// time from timestamp (epoch milliseconds), metadata (product Falcon by
// CrowdStrike, feature Falcon Data Replicator, uid id, event_code
// event_simpleName, tenant_uid cid). Fields without an OCSF attribute are
// kept under unmapped, so nothing is lost.
//
// The error wraps lakerelay.ErrInvalidRecord when raw is not a JSON object,
// lacks event_simpleName, timestamp or the process id of its class, has a
// field of the wrong type, or is an event type with no mapping here (DNS,
// file and registry events, ...): such records are quarantined by callers,
// never silently dropped.
func MapCrowdStrike(raw []byte) ([]byte, error) {
	return mapFlat("crowdstrike", raw, mapCrowdStrike)
}

// CrowdStrikeClasses are the classes [MapCrowdStrike] emits.
var CrowdStrikeClasses = []int{ClassProcessActivity, ClassNetworkActivity}

func mapCrowdStrike(e *flatEvent) (any, error) {
	name := e.str("event_simpleName")
	if name == "" {
		return nil, e.invalid("field event_simpleName is missing")
	}
	switch name {
	case "ProcessRollup2", "SyntheticProcessRollup2", "NetworkConnectIP4", "NetworkReceiveAcceptIP4":
	default:
		return nil, e.invalid("event_simpleName %q has no OCSF mapping (mapped: ProcessRollup2, SyntheticProcessRollup2, NetworkConnectIP4, NetworkReceiveAcceptIP4)", name)
	}
	ms, ok := e.int("timestamp")
	if !ok {
		if e.err != nil {
			return nil, e.err
		}
		return nil, e.invalid("field timestamp is missing")
	}
	base := baseEvent(time.UnixMilli(ms), Product{Name: "Falcon", VendorName: "CrowdStrike",
		Feature: &Feature{Name: "Falcon Data Replicator"}}, e.str("id"))
	base.Metadata.EventCode = name
	base.Metadata.TenantUID = e.str("cid")
	base.Status, base.StatusID = "Success", StatusSuccess
	device := &Device{UID: e.str("aid"), Hostname: e.str("ComputerName"), Type: "Unknown", TypeID: 0}
	if device.UID == "" {
		return nil, e.invalid("field aid (the sensor id) is missing")
	}
	if os := crowdStrikeOS(e.str("event_platform")); os != nil {
		device.OS = os
	}

	var ev any
	switch name {
	case "ProcessRollup2", "SyntheticProcessRollup2":
		pe := &ProcessActivity{BaseEvent: base, Device: device}
		pe.setClass(ClassProcessActivity, CategorySystem, ProcessActivityLaunch, "")
		p := &Process{UID: e.str("TargetProcessId"), CmdLine: e.str("CommandLine")}
		if p.UID == "" {
			return nil, e.invalid("field TargetProcessId is missing")
		}
		if pid, ok := e.int32("RawProcessId"); ok {
			p.PID = pid
		}
		if path := e.str("ImageFileName"); path != "" {
			p.Name = baseName(path)
			p.File = &File{Name: p.Name, Path: path, Type: "Regular File", TypeID: 1}
			if h := e.str("SHA256HashData"); h != "" {
				p.File.Hashes = append(p.File.Hashes, Fingerprint{Algorithm: "SHA-256", AlgorithmID: 3, Value: h})
			}
			if h := e.str("MD5HashData"); h != "" {
				p.File.Hashes = append(p.File.Hashes, Fingerprint{Algorithm: "MD5", AlgorithmID: 1, Value: h})
			}
		}
		p.CreatedTime = e.epochSeconds("ProcessStartTime")
		if sid, user := e.str("UserSid"), e.str("UserName"); sid != "" || user != "" {
			p.User = &User{UID: sid, Name: user}
		}
		if parent := e.str("ParentProcessId"); parent != "" {
			p.ParentProcess = &Process{UID: parent, Name: e.str("ParentBaseFileName")}
		}
		pe.Process = p
		switch {
		case p.ParentProcess != nil:
			pe.Actor = &Actor{Process: p.ParentProcess}
		case p.User != nil:
			pe.Actor = &Actor{User: p.User}
		default:
			return nil, e.invalid("fields ParentProcessId and UserSid are missing: no actor")
		}
		ev = pe
	case "NetworkConnectIP4", "NetworkReceiveAcceptIP4":
		ne := &NetworkActivity{BaseEvent: base, Device: device}
		ne.setClass(ClassNetworkActivity, CategoryNetwork, NetworkActivityOpen, "")
		local := &NetworkEndpoint{IP: e.str("LocalAddressIP4")}
		remote := &NetworkEndpoint{IP: e.str("RemoteAddressIP4")}
		for _, f := range []struct {
			ep   *NetworkEndpoint
			port string
		}{{local, "LocalPort"}, {remote, "RemotePort"}} {
			if p, ok := e.int32(f.port); ok {
				if p < 0 || p > 65535 {
					return nil, e.invalid("field %s %d is not a port", f.port, p)
				}
				f.ep.Port = p
			}
		}
		if !validIPv4(local.IP) || !validIPv4(remote.IP) {
			return nil, e.invalid("fields LocalAddressIP4 and RemoteAddressIP4 must be IPv4 addresses")
		}
		ci := &NetworkConnectionInfo{ProtocolVer: "Internet Protocol version 4 (IPv4)", ProtocolVerID: 4}
		if proto, ok := e.int32("Protocol"); ok {
			ci.ProtocolNum = &proto
			ci.ProtocolName = ianaProtocols[proto]
		}
		if name == "NetworkConnectIP4" {
			ci.Direction, ci.DirectionID = "Outbound", 2
			ne.SrcEndpoint, ne.DstEndpoint = local, remote
		} else {
			ci.Direction, ci.DirectionID = "Inbound", 1
			ne.SrcEndpoint, ne.DstEndpoint = remote, local
		}
		ne.ConnectionInfo = ci
		ev = ne
	}
	if e.err != nil {
		return nil, e.err
	}
	switch ev := ev.(type) {
	case *ProcessActivity:
		ev.Unmapped = e.unmapped()
	case *NetworkActivity:
		ev.Unmapped = e.unmapped()
	}
	return ev, nil
}

// crowdStrikeOS maps event_platform to an OCSF os; nil when empty.
func crowdStrikeOS(platform string) *OS {
	switch platform {
	case "":
		return nil
	case "Win":
		return &OS{Name: "Windows", Type: "Windows", TypeID: 100}
	case "Mac":
		return &OS{Name: "macOS", Type: "macOS", TypeID: 300}
	case "Lin":
		return &OS{Name: "Linux", Type: "Linux", TypeID: 200}
	}
	return &OS{Name: platform, Type: "Other", TypeID: 99}
}

// ianaProtocols names the IP protocol numbers FDR reports.
var ianaProtocols = map[int32]string{1: "icmp", 6: "tcp", 17: "udp", 58: "ipv6-icmp"}

// baseName returns the last element of a Windows or POSIX path.
func baseName(path string) string {
	if i := strings.LastIndexAny(path, `\/`); i >= 0 {
		return path[i+1:]
	}
	return path
}

func validIPv4(s string) bool { a, err := netip.ParseAddr(s); return err == nil && a.Is4() }
