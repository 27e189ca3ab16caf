package securitylake

import (
	"unsafe"

	"github.com/lakerelay/lakerelay/internal/jsonscan"
)

// scanner reads one OCSF JSON document at a time. scanMeta keeps the last
// region and account it copied, to reuse them while they repeat.
type scanner struct {
	jsonscan.Scanner
	lastRegion, lastAccount string
}

// errSyntax is wrapped by every JSON syntax error.
var errSyntax = jsonscan.ErrSyntax

// maxDepth bounds the nesting of the documents the converter reads (its
// walk is recursive).
const maxDepth = 512

// appendQuoted appends s as a JSON string.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, `\u00`...)
			dst = append(dst, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// bstr views b as a string without copying; the string must not outlive b's
// next modification.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
