package imapmsg

import (
	"slices"
	"strings"
)

// param is one MIME parameter, name and value as written in the message
// (quotes removed). RFC 2231 continuations are joined but charset-encoded
// values are passed through undecoded (name* = charset'lang'value), as Dovecot
// does; clients decode them.
type param struct {
	name, value string
}

// parseMediaType splits a Content-Type value (RFC 2045 §5.1) into type,
// subtype and parameters. It never fails: ok is false when no valid
// type/subtype is present, so the caller can apply the RFC 2045 default.
func parseMediaType(v string) (typ, sub string, params []param, ok bool) {
	rest := skipCFWS(v)
	typ, rest = cutToken(rest)
	rest = skipCFWS(rest)
	if typ == "" || !strings.HasPrefix(rest, "/") {
		return "", "", nil, false
	}
	rest = skipCFWS(rest[1:])
	sub, rest = cutToken(rest)
	if sub == "" {
		return "", "", nil, false
	}
	return typ, sub, joinContinuations(parseParams(rest)), true
}

// parseDisposition splits a Content-Disposition value (RFC 2183).
func parseDisposition(v string) (disp string, params []param) {
	rest := skipCFWS(v)
	disp, rest = cutToken(rest)
	return disp, joinContinuations(parseParams(rest))
}

// parseParams reads ";name=value" pairs leniently: junk between
// parameters is skipped and a missing value yields an empty string.
func parseParams(s string) []param {
	var params []param
	for {
		i := strings.IndexByte(s, ';')
		if i < 0 {
			return params
		}
		s = skipCFWS(s[i+1:])
		var name string
		name, s = cutToken(s)
		s = skipCFWS(s)
		if name == "" || !strings.HasPrefix(s, "=") {
			continue
		}
		s = skipCFWS(s[1:])
		var val string
		if strings.HasPrefix(s, `"`) {
			val, s = cutQuoted(s)
		} else {
			val, s = cutToken(s)
		}
		params = append(params, param{name: name, value: val})
	}
}

// joinContinuations merges RFC 2231 §3 continuations (name*0, name*1*, ...)
// into one parameter: "name" when no section is encoded, "name*" when
// some are. Sections are joined in numeric order; gaps are tolerated.
func joinContinuations(params []param) []param {
	hasCont := false
	for _, p := range params {
		if _, _, ok := splitSection(p.name); ok {
			hasCont = true
			break
		}
	}
	if !hasCont {
		return params
	}
	type sect struct {
		n     int
		value string
	}
	var out []param
	at := map[string]int{} // lower-case base name -> index of its entry in out
	sections := map[string][]sect{}
	encoded := map[string]bool{}
	for _, p := range params {
		base, n, ok := splitSection(p.name)
		if !ok {
			out = append(out, p)
			continue
		}
		key := strings.ToLower(base)
		if _, seen := at[key]; !seen {
			at[key] = len(out)
			out = append(out, param{name: base})
		}
		sections[key] = append(sections[key], sect{n, p.value})
		if strings.HasSuffix(p.name, "*") {
			encoded[key] = true
		}
	}
	for key, i := range at {
		secs := sections[key]
		slices.SortStableFunc(secs, func(a, b sect) int { return a.n - b.n })
		var b strings.Builder
		for _, s := range secs {
			b.WriteString(s.value)
		}
		if encoded[key] {
			out[i].name += "*"
		}
		out[i].value = b.String()
	}
	return out
}

// splitSection splits an RFC 2231 section name "base*N" or "base*N*".
func splitSection(name string) (base string, n int, ok bool) {
	name = strings.TrimSuffix(name, "*")
	i := strings.LastIndexByte(name, '*')
	if i <= 0 || i == len(name)-1 || len(name)-i > 4 {
		return "", 0, false
	}
	for _, c := range name[i+1:] {
		if c < '0' || c > '9' {
			return "", 0, false
		}
		n = n*10 + int(c-'0')
	}
	return name[:i], n, true
}

// lookupParam returns the value of the parameter name, case-insensitively.
func lookupParam(params []param, name string) string {
	for _, p := range params {
		if strings.EqualFold(p.name, name) {
			return p.value
		}
	}
	return ""
}

// isTSpecial reports RFC 2045 §5.1 tspecials and white space, which end a token.
func isTSpecial(c byte) bool {
	return c <= ' ' || c == 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0
}

// cutToken returns the RFC 2045 token at the start of s and the rest.
// 8-bit bytes are accepted as token characters to tolerate raw UTF-8.
func cutToken(s string) (tok, rest string) {
	i := 0
	for i < len(s) && (s[i] >= 0x80 || !isTSpecial(s[i])) {
		i++
	}
	return s[:i], s[i:]
}

// cutQuoted reads a quoted-string at the start of s (which starts with a
// quote), removing the quotes and backslash escapes. An unterminated
// string runs to the end of s.
func cutQuoted(s string) (val, rest string) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:]
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ""
}

// skipCFWS skips white space and RFC 5322 comments, which may nest.
func skipCFWS(s string) string {
	for len(s) > 0 {
		switch s[0] {
		case ' ', '\t', '\r', '\n':
			s = s[1:]
		case '(':
			_, s = cutComment(s)
		default:
			return s
		}
	}
	return s
}

// cutComment reads a comment at the start of s (which starts with '(')
// and returns its text without the outer parentheses. An unterminated
// comment runs to the end of s.
func cutComment(s string) (text, rest string) {
	depth := 0
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
			continue
		case c == '(':
			depth++
			if depth == 1 {
				continue
			}
		case c == ')':
			depth--
			if depth == 0 {
				return b.String(), s[i+1:]
			}
		}
		b.WriteByte(c)
	}
	return b.String(), ""
}
