package lakerelay

// Finding is one problem a validator found: in an OCSF event
// (ocsf.Validate), an IAM policy (iamcheck), or a Security Lake location
// (securitylake.Lint). Findings are not errors: the document they are about
// was read; an error return of a validator means it could not be.
//
// Messages never quote values of the document, so findings are safe to log.
type Finding struct {
	// Path says where: a JSON path in the document ("actor.user.uid",
	// "Statement[1].Condition"), or an object's location
	// ("s3://bucket/key"); "" for the document as a whole.
	Path string `json:"path"`
	// Code is a stable identifier of the kind of problem; each validator
	// documents its codes as constants.
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

// String formats the finding as "error actor.user.uid: required: message".
func (f Finding) String() string {
	path := f.Path
	if path == "" {
		path = "(document)"
	}
	return string(f.Severity) + " " + path + ": " + f.Code + ": " + f.Message
}

// Severity says how bad a [Finding] is, after IAM Access Analyzer's finding
// types.
type Severity string

// Severities, from most to least serious.
const (
	// SeverityError: the document does not conform; what reads it rejects
	// or misreads it.
	SeverityError Severity = "error"
	// SeveritySecurityWarning: conforming, but grants more than intended.
	SeveritySecurityWarning Severity = "security_warning"
	// SeverityWarning: conforming, but something readers may trip on or
	// that departs from the guidance.
	SeverityWarning Severity = "warning"
	// SeveritySuggestion: conforming; could be simpler or clearer.
	SeveritySuggestion Severity = "suggestion"
)

// HasErrors reports whether any finding has [SeverityError].
func HasErrors(findings []Finding) bool {
	for _, f := range findings {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}
