package ocsf

import (
	"encoding/json"
	"time"
)

// This file holds the Go types of the OCSF 1.1.0 base event, the seven
// built-in classes and their objects. They are the single source of the
// built-in definitions: [Builtin] derives its schema (attribute names, OCSF
// types, requirements, profiles, enums) from these types and their tags, so
// what the types can express is exactly what the built-in Arrow schemas hold.
//
// Tags: `json` names the attribute; `ocsf:"TYPE,req|rec,profile=P,enum=E"`
// gives the OCSF type when the Go type does not imply it (string → string_t,
// int32 → integer_t, int64 → long_t, float64 → float_t, bool → boolean_t,
// Timestamp → timestamp_t, time.Time → datetime_t, json.RawMessage → json_t,
// map[string]any → free-form object), the requirement (optional when absent),
// the profile that gates it and the enum it takes its values from.
//
// Optional scalars use omitempty, so a zero value is not written; where zero
// is meaningful for an optional enum attribute it means Unknown anyway.

// Timestamp is an OCSF timestamp_t: milliseconds since the Unix epoch.
type Timestamp int64

// TimestampOf returns t as a Timestamp (milliseconds, truncated).
func TimestampOf(t time.Time) Timestamp { return Timestamp(t.UnixMilli()) }

// Time returns the timestamp as a time.Time in UTC.
func (t Timestamp) Time() time.Time { return time.UnixMilli(int64(t)).UTC() }

// BaseEvent holds the attributes every OCSF event class has.
type BaseEvent struct {
	ActivityID     int32          `json:"activity_id" ocsf:",req,enum=activity"`
	ActivityName   string         `json:"activity_name,omitempty"`
	CategoryName   string         `json:"category_name,omitempty"`
	CategoryUID    CategoryUID    `json:"category_uid" ocsf:",req,enum=category"`
	ClassName      string         `json:"class_name,omitempty"`
	ClassUID       int32          `json:"class_uid" ocsf:",req,enum=class"`
	Cloud          *Cloud         `json:"cloud,omitempty" ocsf:",req,profile=cloud"`
	Count          int32          `json:"count,omitempty"`
	Duration       int32          `json:"duration,omitempty"`
	EndTime        Timestamp      `json:"end_time,omitempty"`
	EndTimeDt      *time.Time     `json:"end_time_dt,omitempty" ocsf:",profile=datetime"`
	Enrichments    []Enrichment   `json:"enrichments,omitempty"`
	Message        string         `json:"message,omitempty" ocsf:",rec"`
	Metadata       Metadata       `json:"metadata" ocsf:",req"`
	Observables    []Observable   `json:"observables,omitempty"`
	RawData        string         `json:"raw_data,omitempty"`
	Severity       string         `json:"severity,omitempty"`
	SeverityID     SeverityID     `json:"severity_id" ocsf:",req,enum=severity"`
	StartTime      Timestamp      `json:"start_time,omitempty"`
	StartTimeDt    *time.Time     `json:"start_time_dt,omitempty" ocsf:",profile=datetime"`
	Status         string         `json:"status,omitempty"`
	StatusCode     string         `json:"status_code,omitempty"`
	StatusDetail   string         `json:"status_detail,omitempty"`
	StatusID       StatusID       `json:"status_id,omitempty" ocsf:",rec,enum=status"`
	Time           Timestamp      `json:"time" ocsf:",req"`
	TimeDt         *time.Time     `json:"time_dt,omitempty" ocsf:",profile=datetime"`
	TimezoneOffset int32          `json:"timezone_offset,omitempty" ocsf:",rec"`
	TypeName       string         `json:"type_name,omitempty"`
	TypeUID        int64          `json:"type_uid" ocsf:",req"`
	Unmapped       map[string]any `json:"unmapped,omitempty"`
}

// APIActivity is class 6003: general CRUD API activity (for example AWS
// CloudTrail management events).
type APIActivity struct {
	BaseEvent
	Actor       *Actor            `json:"actor,omitempty" ocsf:",req"`
	API         *API              `json:"api,omitempty" ocsf:",req"`
	DstEndpoint *NetworkEndpoint  `json:"dst_endpoint,omitempty"`
	HTTPRequest *HTTPRequest      `json:"http_request,omitempty"`
	Resources   []ResourceDetails `json:"resources,omitempty" ocsf:",rec"`
	SrcEndpoint *NetworkEndpoint  `json:"src_endpoint,omitempty" ocsf:",req"`
}

// ProcessActivity is class 1007: processes launched, terminated, opened or
// injected into on a device (for example an EDR's process events).
type ProcessActivity struct {
	BaseEvent
	Actor    *Actor   `json:"actor,omitempty" ocsf:",req"`
	Device   *Device  `json:"device,omitempty" ocsf:",req"`
	ExitCode *int32   `json:"exit_code,omitempty"`
	Process  *Process `json:"process,omitempty" ocsf:",req"`
}

// Authentication is class 3002: logon and logoff attempts and their outcome.
type Authentication struct {
	BaseEvent
	Actor          *Actor           `json:"actor,omitempty"`
	API            *API             `json:"api,omitempty" ocsf:",profile=cloud"`
	AuthProtocol   string           `json:"auth_protocol,omitempty"`
	AuthProtocolID int32            `json:"auth_protocol_id,omitempty" ocsf:",rec,enum=auth_protocol"`
	DstEndpoint    *NetworkEndpoint `json:"dst_endpoint,omitempty" ocsf:",rec"`
	HTTPRequest    *HTTPRequest     `json:"http_request,omitempty"`
	IsCleartext    bool             `json:"is_cleartext,omitempty"`
	IsMFA          *bool            `json:"is_mfa,omitempty"`
	IsNewLogon     bool             `json:"is_new_logon,omitempty"`
	IsRemote       *bool            `json:"is_remote,omitempty" ocsf:",rec"`
	LogonProcess   *Process         `json:"logon_process,omitempty"`
	LogonType      string           `json:"logon_type,omitempty"`
	LogonTypeID    *int32           `json:"logon_type_id,omitempty" ocsf:",rec,enum=logon_type"`
	Service        *Service         `json:"service,omitempty" ocsf:",rec"`
	Session        *Session         `json:"session,omitempty"`
	SrcEndpoint    *NetworkEndpoint `json:"src_endpoint,omitempty"`
	User           *User            `json:"user,omitempty" ocsf:",req"`
}

// AccountChange is class 3001: changes to an account (create, delete,
// password and MFA changes, policy attachment).
type AccountChange struct {
	BaseEvent
	Actor       *Actor           `json:"actor,omitempty" ocsf:",rec"`
	API         *API             `json:"api,omitempty" ocsf:",profile=cloud"`
	HTTPRequest *HTTPRequest     `json:"http_request,omitempty"`
	Policy      *Policy          `json:"policy,omitempty"`
	SrcEndpoint *NetworkEndpoint `json:"src_endpoint,omitempty" ocsf:",rec"`
	User        *User            `json:"user,omitempty" ocsf:",req"`
	UserResult  *User            `json:"user_result,omitempty"`
}

// DetectionFinding is class 2004: a detection by a security product.
type DetectionFinding struct {
	BaseEvent
	Action          string            `json:"action,omitempty" ocsf:",profile=security_control"`
	ActionID        int32             `json:"action_id,omitempty" ocsf:",req,profile=security_control,enum=action"`
	Actor           *Actor            `json:"actor,omitempty" ocsf:",profile=host"`
	API             *API              `json:"api,omitempty" ocsf:",profile=cloud"`
	Attacks         []Attack          `json:"attacks,omitempty" ocsf:",profile=security_control"`
	Comment         string            `json:"comment,omitempty"`
	Confidence      string            `json:"confidence,omitempty"`
	ConfidenceID    int32             `json:"confidence_id,omitempty" ocsf:",rec,enum=confidence"`
	ConfidenceScore int32             `json:"confidence_score,omitempty"`
	Device          *Device           `json:"device,omitempty" ocsf:",profile=host"`
	Disposition     string            `json:"disposition,omitempty" ocsf:",profile=security_control"`
	DispositionID   int32             `json:"disposition_id,omitempty" ocsf:",rec,profile=security_control,enum=disposition"`
	Evidences       []Evidences       `json:"evidences,omitempty" ocsf:",rec"`
	FindingInfo     *FindingInfo      `json:"finding_info,omitempty" ocsf:",req"`
	Impact          string            `json:"impact,omitempty"`
	ImpactID        int32             `json:"impact_id,omitempty" ocsf:",enum=impact"`
	ImpactScore     int32             `json:"impact_score,omitempty"`
	Remediation     *Remediation      `json:"remediation,omitempty"`
	Resources       []ResourceDetails `json:"resources,omitempty" ocsf:",rec"`
	RiskLevel       string            `json:"risk_level,omitempty"`
	RiskLevelID     *int32            `json:"risk_level_id,omitempty" ocsf:",enum=risk_level"`
	RiskScore       int32             `json:"risk_score,omitempty"`
}

// NetworkActivity is class 4001: network connections and traffic.
type NetworkActivity struct {
	BaseEvent
	Action         string                 `json:"action,omitempty" ocsf:",profile=security_control"`
	ActionID       int32                  `json:"action_id,omitempty" ocsf:",req,profile=security_control,enum=action"`
	API            *API                   `json:"api,omitempty" ocsf:",profile=cloud"`
	AppName        string                 `json:"app_name,omitempty"`
	ConnectionInfo *NetworkConnectionInfo `json:"connection_info,omitempty" ocsf:",rec"`
	Device         *Device                `json:"device,omitempty" ocsf:",rec,profile=host"`
	Disposition    string                 `json:"disposition,omitempty" ocsf:",profile=security_control"`
	DispositionID  int32                  `json:"disposition_id,omitempty" ocsf:",rec,profile=security_control,enum=disposition"`
	DstEndpoint    *NetworkEndpoint       `json:"dst_endpoint,omitempty" ocsf:",req"`
	SrcEndpoint    *NetworkEndpoint       `json:"src_endpoint,omitempty" ocsf:",req"`
	TLS            *TLS                   `json:"tls,omitempty"`
	Traffic        *NetworkTraffic        `json:"traffic,omitempty"`
	URL            *URL                   `json:"url,omitempty"`
}

// EmailActivity is class 4009: email sent, received or scanned (for example
// by an email security gateway), with what was done with it.
type EmailActivity struct {
	BaseEvent
	Action        string           `json:"action,omitempty" ocsf:",profile=security_control"`
	ActionID      int32            `json:"action_id,omitempty" ocsf:",req,profile=security_control,enum=action"`
	Direction     string           `json:"direction,omitempty"`
	DirectionID   int32            `json:"direction_id" ocsf:",req,enum=email_direction"`
	Disposition   string           `json:"disposition,omitempty" ocsf:",profile=security_control"`
	DispositionID int32            `json:"disposition_id,omitempty" ocsf:",rec,profile=security_control,enum=disposition"`
	DstEndpoint   *NetworkEndpoint `json:"dst_endpoint,omitempty"`
	Email         *Email           `json:"email,omitempty" ocsf:",req"`
	SrcEndpoint   *NetworkEndpoint `json:"src_endpoint,omitempty"`
}

// Email is an email message: its addresses, subject, ids and size.
type Email struct {
	CC             []string `json:"cc,omitempty" ocsf:"email_t"`
	DeliveredTo    string   `json:"delivered_to,omitempty" ocsf:"email_t"`
	From           string   `json:"from" ocsf:"email_t,req"`
	MessageUID     string   `json:"message_uid,omitempty" ocsf:",rec"`
	RawHeader      string   `json:"raw_header,omitempty"`
	ReplyTo        string   `json:"reply_to,omitempty" ocsf:"email_t,rec"`
	Size           int64    `json:"size,omitempty" ocsf:",rec"`
	SMTPFrom       string   `json:"smtp_from,omitempty" ocsf:"email_t,rec"`
	SMTPTo         []string `json:"smtp_to,omitempty" ocsf:"email_t,rec"`
	Subject        string   `json:"subject,omitempty"`
	To             []string `json:"to" ocsf:"email_t,req"`
	UID            string   `json:"uid,omitempty" ocsf:",rec"`
	XOriginatingIP []string `json:"x_originating_ip,omitempty" ocsf:"ip_t"`
}

// Metadata describes the event: product, schema version, profiles, ids.
type Metadata struct {
	CorrelationUID string    `json:"correlation_uid,omitempty"`
	EventCode      string    `json:"event_code,omitempty"`
	Labels         []string  `json:"labels,omitempty"`
	LogLevel       string    `json:"log_level,omitempty"`
	LogName        string    `json:"log_name,omitempty" ocsf:",rec"`
	LogProvider    string    `json:"log_provider,omitempty" ocsf:",rec"`
	LogVersion     string    `json:"log_version,omitempty"`
	LoggedTime     Timestamp `json:"logged_time,omitempty"`
	ModifiedTime   Timestamp `json:"modified_time,omitempty"`
	OriginalTime   string    `json:"original_time,omitempty" ocsf:",rec"`
	ProcessedTime  Timestamp `json:"processed_time,omitempty"`
	Product        Product   `json:"product" ocsf:",req"`
	Profiles       []string  `json:"profiles,omitempty"`
	Sequence       int32     `json:"sequence,omitempty"`
	TenantUID      string    `json:"tenant_uid,omitempty" ocsf:",rec"`
	UID            string    `json:"uid,omitempty"`
	Version        string    `json:"version" ocsf:",req"`
}

// Product is the product that reported the event.
type Product struct {
	CPEName    string   `json:"cpe_name,omitempty"`
	Feature    *Feature `json:"feature,omitempty"`
	Lang       string   `json:"lang,omitempty"`
	Name       string   `json:"name,omitempty" ocsf:",rec"`
	Path       string   `json:"path,omitempty"`
	UID        string   `json:"uid,omitempty" ocsf:",rec"`
	URLString  string   `json:"url_string,omitempty" ocsf:"url_t"`
	VendorName string   `json:"vendor_name" ocsf:",req"`
	Version    string   `json:"version,omitempty" ocsf:",rec"`
}

// Feature is a feature of a product.
type Feature struct {
	Name    string `json:"name,omitempty" ocsf:",rec"`
	UID     string `json:"uid,omitempty" ocsf:",rec"`
	Version string `json:"version,omitempty" ocsf:",rec"`
}

// Cloud describes the cloud environment of the event.
type Cloud struct {
	Account    *Account      `json:"account,omitempty"`
	Org        *Organization `json:"org,omitempty"`
	ProjectUID string        `json:"project_uid,omitempty"`
	Provider   string        `json:"provider" ocsf:",req"`
	Region     string        `json:"region,omitempty" ocsf:",rec"`
	Zone       string        `json:"zone,omitempty"`
}

// Account is a user account (for example an AWS account or IAM user).
type Account struct {
	Name   string `json:"name,omitempty" ocsf:",rec"`
	Type   string `json:"type,omitempty"`
	TypeID int32  `json:"type_id,omitempty" ocsf:",rec,enum=account_type"`
	UID    string `json:"uid,omitempty" ocsf:",rec"`
}

// Organization is an organization or organizational unit.
type Organization struct {
	Name   string `json:"name,omitempty" ocsf:",rec"`
	OUName string `json:"ou_name,omitempty" ocsf:",rec"`
	OUUID  string `json:"ou_uid,omitempty"`
	UID    string `json:"uid,omitempty" ocsf:",rec"`
}

// API describes an API call.
type API struct {
	Group     *Group    `json:"group,omitempty"`
	Operation string    `json:"operation" ocsf:",req"`
	Request   *Request  `json:"request,omitempty" ocsf:",rec"`
	Response  *Response `json:"response,omitempty" ocsf:",rec"`
	Service   *Service  `json:"service,omitempty"`
	Version   string    `json:"version,omitempty"`
}

// Service is a service (for example the AWS service of an API call).
type Service struct {
	Labels  []string `json:"labels,omitempty"`
	Name    string   `json:"name,omitempty" ocsf:",rec"`
	UID     string   `json:"uid,omitempty" ocsf:",rec"`
	Version string   `json:"version,omitempty" ocsf:",rec"`
}

// Request is an API request.
type Request struct {
	Data  json.RawMessage `json:"data,omitempty"`
	Flags []string        `json:"flags,omitempty"`
	UID   string          `json:"uid" ocsf:",req"`
}

// Response is an API response.
type Response struct {
	Code         int32           `json:"code,omitempty" ocsf:",rec"`
	Data         json.RawMessage `json:"data,omitempty"`
	Error        string          `json:"error,omitempty" ocsf:",rec"`
	ErrorMessage string          `json:"error_message,omitempty" ocsf:",rec"`
	Flags        []string        `json:"flags,omitempty"`
	Message      string          `json:"message,omitempty" ocsf:",rec"`
}

// Actor is who or what performed the activity.
type Actor struct {
	Authorizations []Authorization `json:"authorizations,omitempty"`
	IDP            *IDP            `json:"idp,omitempty"`
	InvokedBy      string          `json:"invoked_by,omitempty"`
	Process        *Process        `json:"process,omitempty" ocsf:",rec"`
	Session        *Session        `json:"session,omitempty"`
	User           *User           `json:"user,omitempty" ocsf:",rec"`
}

// User is a user or role.
type User struct {
	Account       *Account      `json:"account,omitempty"`
	CredentialUID string        `json:"credential_uid,omitempty"`
	Domain        string        `json:"domain,omitempty"`
	EmailAddr     string        `json:"email_addr,omitempty" ocsf:"email_t"`
	FullName      string        `json:"full_name,omitempty"`
	Groups        []Group       `json:"groups,omitempty"`
	Name          string        `json:"name,omitempty" ocsf:"username_t,rec"`
	Org           *Organization `json:"org,omitempty"`
	Type          string        `json:"type,omitempty"`
	TypeID        int32         `json:"type_id,omitempty" ocsf:",rec,enum=user_type"`
	UID           string        `json:"uid,omitempty" ocsf:",rec"`
	UIDAlt        string        `json:"uid_alt,omitempty"`
}

// Session is an authenticated session.
type Session struct {
	Count            int32     `json:"count,omitempty"`
	CreatedTime      Timestamp `json:"created_time,omitempty" ocsf:",rec"`
	CredentialUID    string    `json:"credential_uid,omitempty"`
	ExpirationReason string    `json:"expiration_reason,omitempty"`
	ExpirationTime   Timestamp `json:"expiration_time,omitempty"`
	IsMFA            *bool     `json:"is_mfa,omitempty"`
	IsRemote         *bool     `json:"is_remote,omitempty" ocsf:",rec"`
	IsVPN            *bool     `json:"is_vpn,omitempty"`
	Issuer           string    `json:"issuer,omitempty" ocsf:",rec"`
	Terminal         string    `json:"terminal,omitempty"`
	UID              string    `json:"uid,omitempty" ocsf:",rec"`
	UIDAlt           string    `json:"uid_alt,omitempty"`
	UUID             string    `json:"uuid,omitempty" ocsf:"uuid_t"`
}

// IDP is an identity provider.
type IDP struct {
	Name string `json:"name,omitempty" ocsf:",rec"`
	UID  string `json:"uid,omitempty" ocsf:",rec"`
}

// Group is a group of users or resources.
type Group struct {
	Desc       string   `json:"desc,omitempty"`
	Domain     string   `json:"domain,omitempty"`
	Name       string   `json:"name,omitempty" ocsf:",rec"`
	Privileges []string `json:"privileges,omitempty"`
	Type       string   `json:"type,omitempty"`
	UID        string   `json:"uid,omitempty" ocsf:",rec"`
}

// NetworkEndpoint is one end of a network connection or the caller of an
// API.
type NetworkEndpoint struct {
	Domain          string    `json:"domain,omitempty"`
	Hostname        string    `json:"hostname,omitempty" ocsf:"hostname_t,rec"`
	InstanceUID     string    `json:"instance_uid,omitempty" ocsf:",rec"`
	InterfaceName   string    `json:"interface_name,omitempty" ocsf:",rec"`
	InterfaceUID    string    `json:"interface_uid,omitempty" ocsf:",rec"`
	IntermediateIPs []string  `json:"intermediate_ips,omitempty" ocsf:"ip_t"`
	IP              string    `json:"ip,omitempty" ocsf:"ip_t,rec"`
	Location        *Location `json:"location,omitempty"`
	MAC             string    `json:"mac,omitempty" ocsf:"mac_t"`
	Name            string    `json:"name,omitempty" ocsf:",rec"`
	Port            int32     `json:"port,omitempty" ocsf:"port_t,rec"`
	SubnetUID       string    `json:"subnet_uid,omitempty"`
	SvcName         string    `json:"svc_name,omitempty" ocsf:",rec"`
	Type            string    `json:"type,omitempty"`
	TypeID          int32     `json:"type_id,omitempty" ocsf:",rec,enum=device_type"`
	UID             string    `json:"uid,omitempty" ocsf:",rec"`
	VlanUID         string    `json:"vlan_uid,omitempty"`
	VpcUID          string    `json:"vpc_uid,omitempty"`
	Zone            string    `json:"zone,omitempty"`
}

// Location is a geographical location.
type Location struct {
	City         string    `json:"city,omitempty" ocsf:",rec"`
	Continent    string    `json:"continent,omitempty" ocsf:",rec"`
	Coordinates  []float64 `json:"coordinates,omitempty" ocsf:",rec"`
	Country      string    `json:"country,omitempty" ocsf:",rec"`
	Desc         string    `json:"desc,omitempty"`
	IsOnPremises *bool     `json:"is_on_premises,omitempty"`
	ISP          string    `json:"isp,omitempty"`
	PostalCode   string    `json:"postal_code,omitempty"`
	Provider     string    `json:"provider,omitempty"`
	Region       string    `json:"region,omitempty"`
}

// HTTPRequest is an HTTP request.
type HTTPRequest struct {
	Args          string       `json:"args,omitempty"`
	HTTPHeaders   []HTTPHeader `json:"http_headers,omitempty" ocsf:",rec"`
	HTTPMethod    string       `json:"http_method,omitempty" ocsf:",enum=http_method"`
	Length        int32        `json:"length,omitempty"`
	Referrer      string       `json:"referrer,omitempty"`
	UID           string       `json:"uid,omitempty"`
	URL           *URL         `json:"url,omitempty" ocsf:",rec"`
	UserAgent     string       `json:"user_agent,omitempty" ocsf:",rec"`
	Version       string       `json:"version,omitempty" ocsf:",rec"`
	XForwardedFor []string     `json:"x_forwarded_for,omitempty" ocsf:"ip_t"`
}

// HTTPHeader is one HTTP header.
type HTTPHeader struct {
	Name  string `json:"name" ocsf:",req"`
	Value string `json:"value" ocsf:",req"`
}

// URL is a uniform resource locator, split into its parts.
type URL struct {
	Categories   []string `json:"categories,omitempty"`
	Hostname     string   `json:"hostname,omitempty" ocsf:"hostname_t,rec"`
	Path         string   `json:"path,omitempty" ocsf:",rec"`
	Port         int32    `json:"port,omitempty" ocsf:"port_t,rec"`
	QueryString  string   `json:"query_string,omitempty" ocsf:",rec"`
	ResourceType string   `json:"resource_type,omitempty"`
	Scheme       string   `json:"scheme,omitempty" ocsf:",rec"`
	Subdomain    string   `json:"subdomain,omitempty"`
	URLString    string   `json:"url_string,omitempty" ocsf:"url_t,rec"`
}

// ResourceDetails is a resource an activity touched (for example an S3
// object or an EC2 instance).
type ResourceDetails struct {
	CloudPartition string          `json:"cloud_partition,omitempty" ocsf:",profile=cloud"`
	Criticality    string          `json:"criticality,omitempty"`
	Data           json.RawMessage `json:"data,omitempty"`
	Group          *Group          `json:"group,omitempty"`
	Labels         []string        `json:"labels,omitempty"`
	Name           string          `json:"name,omitempty"`
	Namespace      string          `json:"namespace,omitempty"`
	Owner          *User           `json:"owner,omitempty" ocsf:",rec"`
	Region         string          `json:"region,omitempty" ocsf:",profile=cloud"`
	Type           string          `json:"type,omitempty"`
	UID            string          `json:"uid,omitempty"`
	Version        string          `json:"version,omitempty"`
}

// FindingInfo describes a finding: its id, title, analytic and timing.
type FindingInfo struct {
	Analytic         *Analytic  `json:"analytic,omitempty" ocsf:",rec"`
	Attacks          []Attack   `json:"attacks,omitempty"`
	CreatedTime      Timestamp  `json:"created_time,omitempty"`
	DataSources      []string   `json:"data_sources,omitempty"`
	Desc             string     `json:"desc,omitempty"`
	FirstSeenTime    Timestamp  `json:"first_seen_time,omitempty"`
	LastSeenTime     Timestamp  `json:"last_seen_time,omitempty"`
	ModifiedTime     Timestamp  `json:"modified_time,omitempty"`
	ProductUID       string     `json:"product_uid,omitempty"`
	RelatedAnalytics []Analytic `json:"related_analytics,omitempty"`
	SrcURL           string     `json:"src_url,omitempty" ocsf:"url_t"`
	Title            string     `json:"title" ocsf:",req"`
	Types            []string   `json:"types,omitempty"`
	UID              string     `json:"uid" ocsf:",req"`
}

// Analytic is the rule or model that produced a finding.
type Analytic struct {
	Category string `json:"category,omitempty"`
	Desc     string `json:"desc,omitempty"`
	Name     string `json:"name,omitempty" ocsf:",rec"`
	Type     string `json:"type,omitempty"`
	TypeID   int32  `json:"type_id" ocsf:",req,enum=analytic_type"`
	UID      string `json:"uid,omitempty" ocsf:",rec"`
	Version  string `json:"version,omitempty"`
}

// Attack is a MITRE ATT&CK tactic/technique reference.
type Attack struct {
	SubTechnique *SubTechnique `json:"sub_technique,omitempty"`
	Tactic       *Tactic       `json:"tactic,omitempty"`
	Technique    *Technique    `json:"technique,omitempty"`
	Version      string        `json:"version,omitempty" ocsf:",rec"`
}

// Tactic is a MITRE ATT&CK tactic.
type Tactic struct {
	Name   string `json:"name,omitempty"`
	SrcURL string `json:"src_url,omitempty" ocsf:"url_t"`
	UID    string `json:"uid,omitempty" ocsf:",rec"`
}

// Technique is a MITRE ATT&CK technique.
type Technique struct {
	Name   string `json:"name,omitempty" ocsf:",rec"`
	SrcURL string `json:"src_url,omitempty" ocsf:"url_t"`
	UID    string `json:"uid,omitempty" ocsf:",rec"`
}

// SubTechnique is a MITRE ATT&CK sub-technique.
type SubTechnique struct {
	Name   string `json:"name,omitempty"`
	SrcURL string `json:"src_url,omitempty" ocsf:"url_t"`
	UID    string `json:"uid,omitempty" ocsf:",rec"`
}

// Evidences is an artifact supporting a finding.
type Evidences struct {
	Actor          *Actor                 `json:"actor,omitempty" ocsf:",rec"`
	API            *API                   `json:"api,omitempty" ocsf:",rec"`
	ConnectionInfo *NetworkConnectionInfo `json:"connection_info,omitempty" ocsf:",rec"`
	Data           json.RawMessage        `json:"data,omitempty"`
	DstEndpoint    *NetworkEndpoint       `json:"dst_endpoint,omitempty" ocsf:",rec"`
	File           *File                  `json:"file,omitempty" ocsf:",rec"`
	Process        *Process               `json:"process,omitempty" ocsf:",rec"`
	Query          *DNSQuery              `json:"query,omitempty" ocsf:",rec"`
	SrcEndpoint    *NetworkEndpoint       `json:"src_endpoint,omitempty" ocsf:",rec"`
}

// DNSQuery is a DNS query.
type DNSQuery struct {
	Class     string `json:"class,omitempty" ocsf:",rec"`
	Hostname  string `json:"hostname" ocsf:"hostname_t,req"`
	PacketUID int32  `json:"packet_uid,omitempty" ocsf:",rec"`
	Type      string `json:"type,omitempty" ocsf:",rec"`
}

// Process is an operating-system process. ParentProcess makes it recursive;
// Arrow schemas cut it per [MaxObjectRepeat].
type Process struct {
	CmdLine        string    `json:"cmd_line,omitempty" ocsf:",rec"`
	CreatedTime    Timestamp `json:"created_time,omitempty" ocsf:",rec"`
	File           *File     `json:"file,omitempty" ocsf:",rec"`
	Integrity      string    `json:"integrity,omitempty"`
	IntegrityID    int32     `json:"integrity_id,omitempty" ocsf:",enum=integrity"`
	Lineage        []string  `json:"lineage,omitempty"`
	LoadedModules  []string  `json:"loaded_modules,omitempty"`
	Name           string    `json:"name,omitempty" ocsf:"process_name_t,rec"`
	ParentProcess  *Process  `json:"parent_process,omitempty" ocsf:",rec"`
	PID            int32     `json:"pid,omitempty" ocsf:",rec"`
	Sandbox        string    `json:"sandbox,omitempty"`
	Session        *Session  `json:"session,omitempty"`
	TerminatedTime Timestamp `json:"terminated_time,omitempty"`
	TID            int32     `json:"tid,omitempty"`
	UID            string    `json:"uid,omitempty" ocsf:",rec"`
	User           *User     `json:"user,omitempty" ocsf:",rec"`
}

// File is a file or folder.
type File struct {
	AccessedTime       Timestamp     `json:"accessed_time,omitempty"`
	Attributes         int32         `json:"attributes,omitempty"`
	CompanyName        string        `json:"company_name,omitempty"`
	Confidentiality    string        `json:"confidentiality,omitempty"`
	ConfidentialityID  int32         `json:"confidentiality_id,omitempty" ocsf:",enum=confidentiality"`
	CreatedTime        Timestamp     `json:"created_time,omitempty"`
	Desc               string        `json:"desc,omitempty"`
	Hashes             []Fingerprint `json:"hashes,omitempty" ocsf:",rec"`
	IsSystem           *bool         `json:"is_system,omitempty"`
	MimeType           string        `json:"mime_type,omitempty"`
	ModifiedTime       Timestamp     `json:"modified_time,omitempty"`
	Name               string        `json:"name" ocsf:"file_name_t,req"`
	Owner              *User         `json:"owner,omitempty"`
	ParentFolder       string        `json:"parent_folder,omitempty"`
	Path               string        `json:"path,omitempty" ocsf:",rec"`
	SecurityDescriptor string        `json:"security_descriptor,omitempty"`
	Size               int64         `json:"size,omitempty"`
	Type               string        `json:"type,omitempty"`
	TypeID             int32         `json:"type_id" ocsf:",req,enum=file_type"`
	UID                string        `json:"uid,omitempty"`
	Version            string        `json:"version,omitempty"`
}

// Fingerprint is a hash of a file or other data.
type Fingerprint struct {
	Algorithm   string `json:"algorithm,omitempty"`
	AlgorithmID int32  `json:"algorithm_id" ocsf:",req,enum=hash_algorithm"`
	Value       string `json:"value" ocsf:"file_hash_t,req"`
}

// NetworkConnectionInfo describes a network connection.
type NetworkConnectionInfo struct {
	Boundary      string `json:"boundary,omitempty"`
	BoundaryID    int32  `json:"boundary_id,omitempty" ocsf:",enum=boundary"`
	Direction     string `json:"direction,omitempty"`
	DirectionID   int32  `json:"direction_id" ocsf:",req,enum=direction"`
	ProtocolName  string `json:"protocol_name,omitempty"`
	ProtocolNum   *int32 `json:"protocol_num,omitempty" ocsf:",rec"`
	ProtocolVer   string `json:"protocol_ver,omitempty"`
	ProtocolVerID int32  `json:"protocol_ver_id,omitempty" ocsf:",enum=protocol_ver"`
	TCPFlags      int32  `json:"tcp_flags,omitempty"`
	UID           string `json:"uid,omitempty"`
}

// NetworkTraffic counts bytes and packets.
type NetworkTraffic struct {
	Bytes      int64 `json:"bytes,omitempty" ocsf:",rec"`
	BytesIn    int64 `json:"bytes_in,omitempty"`
	BytesOut   int64 `json:"bytes_out,omitempty"`
	Packets    int64 `json:"packets,omitempty" ocsf:",rec"`
	PacketsIn  int64 `json:"packets_in,omitempty"`
	PacketsOut int64 `json:"packets_out,omitempty"`
}

// TLS describes a TLS session.
type TLS struct {
	Cipher    string `json:"cipher,omitempty" ocsf:",rec"`
	KeyLength int32  `json:"key_length,omitempty"`
	SNI       string `json:"sni,omitempty" ocsf:",rec"`
	Version   string `json:"version" ocsf:",req"`
}

// Device is an addressable computer system or host.
type Device struct {
	Domain        string    `json:"domain,omitempty"`
	Hostname      string    `json:"hostname,omitempty" ocsf:"hostname_t,rec"`
	InstanceUID   string    `json:"instance_uid,omitempty" ocsf:",rec"`
	InterfaceName string    `json:"interface_name,omitempty" ocsf:",rec"`
	InterfaceUID  string    `json:"interface_uid,omitempty" ocsf:",rec"`
	IP            string    `json:"ip,omitempty" ocsf:"ip_t,rec"`
	Location      *Location `json:"location,omitempty"`
	MAC           string    `json:"mac,omitempty" ocsf:"mac_t"`
	Name          string    `json:"name,omitempty" ocsf:",rec"`
	OS            *OS       `json:"os,omitempty"`
	Region        string    `json:"region,omitempty" ocsf:",rec"`
	SubnetUID     string    `json:"subnet_uid,omitempty"`
	Type          string    `json:"type,omitempty"`
	TypeID        int32     `json:"type_id" ocsf:",req,enum=device_type"`
	UID           string    `json:"uid,omitempty" ocsf:",rec"`
	VpcUID        string    `json:"vpc_uid,omitempty"`
	Zone          string    `json:"zone,omitempty"`
}

// OS is an operating system.
type OS struct {
	Build   string `json:"build,omitempty"`
	Name    string `json:"name" ocsf:",req"`
	Type    string `json:"type,omitempty"`
	TypeID  int32  `json:"type_id" ocsf:",req,enum=os_type"`
	Version string `json:"version,omitempty"`
}

// Policy is a policy (for example an IAM policy).
type Policy struct {
	Desc    string `json:"desc,omitempty"`
	Group   *Group `json:"group,omitempty"`
	Name    string `json:"name,omitempty" ocsf:",rec"`
	UID     string `json:"uid,omitempty" ocsf:",rec"`
	Version string `json:"version,omitempty" ocsf:",rec"`
}

// Authorization is the outcome of an authorization check.
type Authorization struct {
	Decision string  `json:"decision,omitempty"`
	Policy   *Policy `json:"policy,omitempty"`
}

// Remediation describes how to fix a finding.
type Remediation struct {
	Desc       string   `json:"desc" ocsf:",req"`
	References []string `json:"references,omitempty"`
}

// Observable is a value worth indexing (an IP, a user name, …) with where it
// occurs in the event.
type Observable struct {
	Name   string `json:"name" ocsf:",req"`
	Type   string `json:"type,omitempty"`
	TypeID int32  `json:"type_id" ocsf:",req,enum=observable_type"`
	Value  string `json:"value,omitempty"`
}

// Enrichment is additional data attached to an event.
type Enrichment struct {
	Data     json.RawMessage `json:"data" ocsf:",req"`
	Name     string          `json:"name" ocsf:",req"`
	Provider string          `json:"provider,omitempty" ocsf:",rec"`
	Type     string          `json:"type,omitempty" ocsf:",rec"`
	Value    string          `json:"value" ocsf:",req"`
}
