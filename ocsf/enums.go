package ocsf

// Version is the OCSF version of the built-in definitions and of the events
// [MapCloudTrail] produces. It is Amazon Security Lake's default.
const Version = "1.1.0"

// Class uids of the built-in classes (class_uid = category_uid*1000 + uid
// within the category).
const (
	ClassProcessActivity  = 1007
	ClassDetectionFinding = 2004
	ClassAccountChange    = 3001
	ClassAuthentication   = 3002
	ClassNetworkActivity  = 4001
	ClassEmailActivity    = 4009
	ClassAPIActivity      = 6003
)

// CategoryUID is an OCSF category_uid.
type CategoryUID int32

// Categories.
const (
	CategorySystem      CategoryUID = 1
	CategoryFindings    CategoryUID = 2
	CategoryIAM         CategoryUID = 3
	CategoryNetwork     CategoryUID = 4
	CategoryDiscovery   CategoryUID = 5
	CategoryApplication CategoryUID = 6
)

// SeverityID is an OCSF severity_id.
type SeverityID int32

// Severities.
const (
	SeverityUnknown       SeverityID = 0
	SeverityInformational SeverityID = 1
	SeverityLow           SeverityID = 2
	SeverityMedium        SeverityID = 3
	SeverityHigh          SeverityID = 4
	SeverityCritical      SeverityID = 5
	SeverityFatal         SeverityID = 6
	SeverityOther         SeverityID = 99
)

// StatusID is an OCSF status_id.
type StatusID int32

// Statuses.
const (
	StatusUnknown StatusID = 0
	StatusSuccess StatusID = 1
	StatusFailure StatusID = 2
	StatusOther   StatusID = 99
)

// Activity ids every class has.
const (
	ActivityUnknown int32 = 0
	ActivityOther   int32 = 99
)

// API Activity (6003) activities.
const (
	APIActivityCreate int32 = 1
	APIActivityRead   int32 = 2
	APIActivityUpdate int32 = 3
	APIActivityDelete int32 = 4
)

// Authentication (3002) activities.
const (
	AuthenticationLogon                int32 = 1
	AuthenticationLogoff               int32 = 2
	AuthenticationTicket               int32 = 3
	AuthenticationServiceTicketRequest int32 = 4
	AuthenticationServiceTicketRenew   int32 = 5
)

// Account Change (3001) activities.
const (
	AccountChangeCreate           int32 = 1
	AccountChangeEnable           int32 = 2
	AccountChangePasswordChange   int32 = 3
	AccountChangePasswordReset    int32 = 4
	AccountChangeDisable          int32 = 5
	AccountChangeDelete           int32 = 6
	AccountChangeAttachPolicy     int32 = 7
	AccountChangeDetachPolicy     int32 = 8
	AccountChangeLock             int32 = 9
	AccountChangeMFAFactorEnable  int32 = 10
	AccountChangeMFAFactorDisable int32 = 11
)

// Process Activity (1007) activities.
const (
	ProcessActivityLaunch    int32 = 1
	ProcessActivityTerminate int32 = 2
	ProcessActivityOpen      int32 = 3
	ProcessActivityInject    int32 = 4
	ProcessActivitySetUserID int32 = 5
)

// Detection Finding (2004) activities.
const (
	DetectionFindingCreate int32 = 1
	DetectionFindingUpdate int32 = 2
	DetectionFindingClose  int32 = 3
)

// Network Activity (4001) activities.
const (
	NetworkActivityOpen    int32 = 1
	NetworkActivityClose   int32 = 2
	NetworkActivityReset   int32 = 3
	NetworkActivityFail    int32 = 4
	NetworkActivityRefuse  int32 = 5
	NetworkActivityTraffic int32 = 6
)

// Email Activity (4009) activities.
const (
	EmailActivitySend    int32 = 1
	EmailActivityReceive int32 = 2
	EmailActivityScan    int32 = 3
)

// TypeUID returns class_uid*100 + activity_id, the OCSF type_uid.
func TypeUID(classUID int, activityID int32) int64 {
	return int64(classUID)*100 + int64(activityID)
}

// enum value → caption tables of the built-in definitions, keyed by the
// name used in `ocsf:"...,enum=NAME"` tags. Values are written as JSON text.
var builtinEnums = map[string]map[string]string{
	"severity": {"0": "Unknown", "1": "Informational", "2": "Low", "3": "Medium", "4": "High", "5": "Critical", "6": "Fatal", "99": "Other"},
	"status":   {"0": "Unknown", "1": "Success", "2": "Failure", "99": "Other"},
	"auth_protocol": {"0": "Unknown", "1": "NTLM", "2": "Kerberos", "3": "Digest", "4": "OpenID", "5": "SAML",
		"6": "OAUTH 2.0", "7": "PAP", "8": "CHAP", "9": "EAP", "10": "RADIUS", "99": "Other"},
	"logon_type": {"0": "System", "2": "Interactive", "3": "Network", "4": "Batch", "5": "OS Service", "7": "Unlock",
		"8": "Network Cleartext", "9": "New Credentials", "10": "Remote Interactive", "11": "Cached Interactive",
		"12": "Cached Remote Interactive", "13": "Cached Unlock", "99": "Other"},
	"confidence": {"0": "Unknown", "1": "Low", "2": "Medium", "3": "High", "99": "Other"},
	"action":     {"0": "Unknown", "1": "Allowed", "2": "Denied", "99": "Other"},
	"disposition": {"0": "Unknown", "1": "Allowed", "2": "Blocked", "3": "Quarantined", "4": "Isolated", "5": "Deleted",
		"6": "Dropped", "7": "Custom Action", "8": "Approved", "9": "Restored", "10": "Exonerated", "11": "Corrected",
		"12": "Partially Corrected", "13": "Uncorrected", "14": "Delayed", "15": "Detected", "16": "No Action",
		"17": "Logged", "18": "Tagged", "19": "Alert", "20": "Count", "21": "Reset", "22": "Captcha", "23": "Challenge",
		"24": "Access Revoked", "25": "Rejected", "26": "Unauthorized", "27": "Error", "99": "Other"},
	"impact":     {"0": "Unknown", "1": "Low", "2": "Medium", "3": "High", "4": "Critical", "99": "Other"},
	"risk_level": {"0": "Info", "1": "Low", "2": "Medium", "3": "High", "4": "Critical"},
	"account_type": {"0": "Unknown", "1": "LDAP Account", "2": "Windows Account", "3": "AWS IAM User", "4": "AWS IAM Role",
		"5": "GCP Account", "6": "Azure AD Account", "7": "Mac OS Account", "8": "Apple Account", "9": "Linux Account",
		"10": "AWS Account", "99": "Other"},
	"user_type": {"0": "Unknown", "1": "User", "2": "Admin", "3": "System", "99": "Other"},
	"device_type": {"0": "Unknown", "1": "Server", "2": "Desktop", "3": "Laptop", "4": "Tablet", "5": "Mobile",
		"6": "Virtual", "7": "IOT", "8": "Browser", "9": "Firewall", "10": "Switch", "11": "Hub", "99": "Other"},
	"analytic_type": {"0": "Unknown", "1": "Rule", "2": "Behavioral", "3": "Statistical", "4": "Learning (ML/DL)", "99": "Other"},
	"file_type": {"0": "Unknown", "1": "Regular File", "2": "Folder", "3": "Character Device", "4": "Block Device",
		"5": "Local Socket", "6": "Named Pipe", "7": "Symbolic Link", "99": "Other"},
	"hash_algorithm": {"0": "Unknown", "1": "MD5", "2": "SHA-1", "3": "SHA-256", "4": "SHA-512", "5": "CTPH", "6": "TLSH",
		"7": "quickXorHash", "99": "Other"},
	"direction":       {"0": "Unknown", "1": "Inbound", "2": "Outbound", "3": "Lateral", "99": "Other"},
	"email_direction": {"0": "Unknown", "1": "Inbound", "2": "Outbound", "3": "Internal", "99": "Other"},
	"boundary": {"0": "Unknown", "1": "Localhost", "2": "Internal", "3": "External", "4": "Same VPC",
		"5": "Internet/VPC Gateway", "6": "Virtual Private Gateway", "7": "Intra-region VPC", "8": "Inter-region VPC",
		"9": "Local Gateway", "10": "Gateway VPC", "11": "Internet Gateway", "99": "Other"},
	"protocol_ver": {"0": "Unknown", "4": "Internet Protocol version 4 (IPv4)", "6": "Internet Protocol version 6 (IPv6)", "99": "Other"},
	"os_type": {"0": "Unknown", "99": "Other", "100": "Windows", "101": "Windows Mobile", "200": "Linux", "201": "Android",
		"300": "macOS", "301": "iOS", "302": "iPadOS", "400": "Solaris", "401": "AIX", "402": "HP-UX"},
	"observable_type": {"0": "Unknown", "1": "Hostname", "2": "IP Address", "3": "MAC Address", "4": "User Name",
		"5": "Email Address", "6": "URL String", "7": "File Name", "8": "Hash", "9": "Process Name", "10": "Resource UID",
		"20": "Endpoint", "21": "User", "22": "Email", "23": "Uniform Resource Locator", "24": "File", "25": "Process",
		"26": "Geo Location", "27": "Container", "28": "Registry Key", "29": "Registry Value", "30": "Fingerprint", "99": "Other"},
	"http_method": {"GET": "Get", "PUT": "Put", "HEAD": "Head", "POST": "Post", "TRACE": "Trace", "DELETE": "Delete",
		"CONNECT": "Connect", "OPTIONS": "Options"},
	"confidentiality": {"0": "Unknown", "1": "Not Confidential", "2": "Confidential", "3": "Secret", "4": "Top Secret", "99": "Other"},
	"integrity":       {"0": "Unknown", "1": "Untrusted", "2": "Low", "3": "Medium", "4": "High", "5": "System", "6": "Protected", "99": "Other"},
}
