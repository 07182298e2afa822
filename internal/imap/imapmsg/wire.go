package imapmsg

import (
	"strconv"
	"strings"
)

// Quote returns s as an IMAP string (RFC 3501 §4.3): a quoted string with
// '"' and '\' escaped when s is 7-bit text, otherwise a synchronizing
// literal "{n}\r\n" followed by s. NUL bytes, which no IMAP string may
// carry outside literal8, are dropped.
func Quote(s string) string {
	var b strings.Builder
	appendString(&b, s)
	return b.String()
}

// NString returns "NIL" for the empty string and Quote(s) otherwise, the
// usual mapping for optional fields such as body-fld-id.
func NString(s string) string {
	if s == "" {
		return "NIL"
	}
	return Quote(s)
}

// appendString writes s as an IMAP string; see Quote.
func appendString(b *strings.Builder, s string) {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	literal := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c >= 0x80 {
			literal = true
			break
		}
	}
	if literal {
		b.WriteByte('{')
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteString("}\r\n")
		b.WriteString(s)
		return
	}
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

// appendNString writes NIL for the empty string and the IMAP string otherwise.
func appendNString(b *strings.Builder, s string) {
	if s == "" {
		b.WriteString("NIL")
		return
	}
	appendString(b, s)
}
