package partition

import (
	"strings"
	"time"
)

// SecurityLake returns the Amazon Security Lake partition for an event of the
// given region and account at time t:
//
//	region=<region>/accountId=<account>/eventDay=<yyyyMMdd>/
//
// eventDay is the day of t in UTC. region must look like an AWS region
// ("us-east-1", "us-gov-west-1"); accountID must be 12 digits, "external" or
// "external_<id>" (id of letters, digits, "-" and "_", at most 64 bytes), as
// Security Lake requires. The result is meant to be appended to the source's
// location exactly as Security Lake reports it.
func SecurityLake(region, accountID string, t time.Time) (string, error) {
	if err := ValidateRegion(region); err != nil {
		return "", err
	}
	if err := ValidateAccount(accountID); err != nil {
		return "", err
	}
	day := t.UTC().Format("20060102")
	return "region=" + region + "/accountId=" + accountID + "/eventDay=" + day + "/", nil
}

// SecurityLakePartition is a parsed Security Lake partition; see
// [ParseSecurityLake].
type SecurityLakePartition struct {
	Region    string
	AccountID string
	EventDay  string // yyyyMMdd
}

// ParseSecurityLake parses a partition as [SecurityLake] formats it,
// "region=<r>/accountId=<a>/eventDay=<yyyyMMdd>/" (the trailing slash is
// optional), and validates each value. The error is a *[KeyError] naming the
// field ("partition" for the layout itself).
func ParseSecurityLake(p string) (SecurityLakePartition, error) {
	var out SecurityLakePartition
	const layout = "not region=<region>/accountId=<account>/eventDay=<yyyyMMdd>/"
	parts := strings.Split(strings.TrimSuffix(p, "/"), "/")
	if len(parts) != 3 {
		return out, keyError("partition", p, layout)
	}
	var ok [3]bool
	out.Region, ok[0] = strings.CutPrefix(parts[0], "region=")
	out.AccountID, ok[1] = strings.CutPrefix(parts[1], "accountId=")
	out.EventDay, ok[2] = strings.CutPrefix(parts[2], "eventDay=")
	if !ok[0] || !ok[1] || !ok[2] {
		return out, keyError("partition", p, layout)
	}
	if err := ValidateRegion(out.Region); err != nil {
		return out, err
	}
	if err := ValidateAccount(out.AccountID); err != nil {
		return out, err
	}
	if _, err := time.Parse("20060102", out.EventDay); err != nil || len(out.EventDay) != 8 {
		return out, keyError("eventDay", out.EventDay, "not a yyyyMMdd date")
	}
	return out, nil
}

// String formats the partition as [SecurityLake] does.
func (p SecurityLakePartition) String() string {
	return "region=" + p.Region + "/accountId=" + p.AccountID + "/eventDay=" + p.EventDay + "/"
}

// ValidateRegion reports whether region has the form of an AWS region: two to
// four lower-case letters, one or more lower-case words and a number, joined
// by "-" ("us-east-1", "ap-southeast-2", "us-gov-west-1", "eusc-de-east-1").
// The error is a *[KeyError] for field "region".
func ValidateRegion(region string) error {
	if !isRegion(region) {
		return keyError("region", region, `not an AWS region (like "us-east-1")`)
	}
	return nil
}

func isRegion(s string) bool {
	if len(s) > 32 {
		return false
	}
	parts := splitDash(s)
	if len(parts) < 3 {
		return false
	}
	if n := len(parts[0]); n < 2 || n > 4 || !allLower(parts[0]) {
		return false
	}
	for _, p := range parts[1 : len(parts)-1] {
		if p == "" || !allLower(p) {
			return false
		}
	}
	last := parts[len(parts)-1]
	if n := len(last); n < 1 || n > 2 || !allDigits(last) {
		return false
	}
	return true
}

// ValidateAccount reports whether account is a Security Lake account
// partition value: a 12-digit AWS account id, "external", or "external_<id>"
// where id is 1–64 letters, digits, "-" or "_". The error is a *[KeyError]
// for field "accountId".
func ValidateAccount(account string) error {
	switch {
	case len(account) == 12 && allDigits(account):
		return nil
	case account == "external":
		return nil
	case len(account) > len("external_") && account[:len("external_")] == "external_":
		id := account[len("external_"):]
		if len(id) <= 64 && allIDChars(id) {
			return nil
		}
	}
	return keyError("accountId", account, `not a 12-digit account id, "external" or "external_<id>"`)
}

func splitDash(s string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

func allLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return s != ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func allIDChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}
