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

// headerContains reports whether any field of h, as "Name: value" with
// the value decoded, contains the folded needle.
func headerContains(h header, needle string) bool {
	for _, f := range h.fields {
		if strings.Contains(fold(string(f.name)+": "+decodeHeaderValue(h.value(f))), needle) {
			return true
		}
	}
	return false
}

// textContains reports whether the decoded text of p contains the folded
// needle. Text parts are searched after undoing the transfer encoding and
// charset; encapsulated messages contribute their header fields as well,
// since they are text of the outer body. Other media types are skipped.
func textContains(raw []byte, p *part, needle string) bool {
	switch p.kind {
	case kindMultipart:
		for _, c := range p.children {
			if textContains(raw, c, needle) {
				return true
			}
		}
		return false
	case kindMessage:
		return headerContains(p.msg.hdr, needle) || textContains(raw, p.msg, needle)
	}
	if !strings.EqualFold(p.typ, "text") {
		return false
	}
	body := decodeBody(p.encoding(), raw[p.bodyStart:p.end])
	return strings.Contains(fold(decodeCharset(lookupParam(p.params, "charset"), body)), needle)
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
