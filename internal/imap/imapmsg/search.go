package imapmsg

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// headerValues returns the decoded values of the fields of h named name.
func headerValues(h header, name string) []string {
	var vals []string
	for _, f := range h.fields {
		if asciiEqualFold(f.name, name) {
			vals = append(vals, decodeHeaderValue(h.value(f)))
		}
	}
	return vals
}

// hasHeader implements SEARCH HEADER (RFC 3501 §6.4.4) on h.
func hasHeader(h header, name, substr string) bool {
	needle := fold(substr)
	for _, f := range h.fields {
		if asciiEqualFold(f.name, name) && (needle == "" || strings.Contains(fold(decodeHeaderValue(h.value(f))), needle)) {
			return true
		}
	}
	return false
}

// hasAddress implements SEARCH FROM, TO, CC and BCC (RFC 3501 §6.4.4:
// "the envelope structure's FROM field"): substr, case-insensitively, in
// the field as written or in one of its addresses as the ENVELOPE has
// them, written "name <mailbox@host>" (a group by its name). So comments
// inside an address do not hide it, and encoded names match decoded.
func hasAddress(h header, name, substr string) bool {
	if hasHeader(h, name, substr) {
		return true
	}
	needle := fold(substr)
	for _, f := range h.fields {
		if !asciiEqualFold(f.name, name) {
			continue
		}
		for _, a := range parseAddressList(h.value(f)) {
			if a.group != groupEnd && strings.Contains(fold(a.display()), needle) {
				return true
			}
		}
	}
	return false
}

// fold maps s to a canonical case so that two strings equal under
// Unicode simple case folding map to the same string (the smallest rune
// of each case orbit), for case-insensitive SEARCH (RFC 3501 §6.4.4).
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(s)
	}
	return strings.Map(foldRune, s)
}

func foldRune(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < m {
			m = f
		}
	}
	return m
}
