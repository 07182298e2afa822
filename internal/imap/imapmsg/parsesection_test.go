package imapmsg

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The IMAP server parses sections with its protocol parser (which also takes
// literals); this string form only builds Sections for this package's tests.

// ErrBadSection is wrapped by ParseSection errors, so the server can
// answer BAD without string matching.
var ErrBadSection = errors.New("imapmsg: bad section")

// ParseSection parses the text between the brackets of BODY[...] (RFC 3501
// §6.4.5, grammar "section-spec" in §9): for example "", "TEXT", "1.MIME",
// "1.2.HEADER.FIELDS (From To)". Keywords are case-insensitive; field
// names may be atoms or quoted strings.
func ParseSection(spec string) (Section, error) {
	var s Section
	rest := spec
	// section-part = nz-number *("." nz-number)
	for rest != "" && rest[0] >= '0' && rest[0] <= '9' {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n == 0 || rest[0] == '0' {
			return Section{}, fmt.Errorf("%w: part number %q", ErrBadSection, rest[:i])
		}
		s.Part = append(s.Part, n)
		rest = rest[i:]
		if rest == "" {
			return s, nil
		}
		if rest[0] != '.' {
			return Section{}, fmt.Errorf("%w: %q", ErrBadSection, spec)
		}
		rest = rest[1:]
		if rest == "" {
			return Section{}, fmt.Errorf("%w: trailing dot in %q", ErrBadSection, spec)
		}
	}
	kw, fields, hasFields := strings.Cut(rest, " ")
	switch strings.ToUpper(kw) {
	case "":
		if len(s.Part) > 0 || hasFields {
			return Section{}, fmt.Errorf("%w: %q", ErrBadSection, spec)
		}
		return s, nil
	case "HEADER":
		s.Spec = SpecHeader
	case "TEXT":
		s.Spec = SpecText
	case "MIME":
		if len(s.Part) == 0 {
			return Section{}, fmt.Errorf("%w: MIME needs a part number", ErrBadSection)
		}
		s.Spec = SpecMIME
	case "HEADER.FIELDS":
		s.Spec = SpecHeaderFields
	case "HEADER.FIELDS.NOT":
		s.Spec = SpecHeaderFieldsNot
	default:
		return Section{}, fmt.Errorf("%w: unknown specifier %q", ErrBadSection, kw)
	}
	if s.Spec != SpecHeaderFields && s.Spec != SpecHeaderFieldsNot {
		if hasFields {
			return Section{}, fmt.Errorf("%w: unexpected %q", ErrBadSection, fields)
		}
		return s, nil
	}
	if !hasFields {
		return Section{}, fmt.Errorf("%w: %s needs a field list", ErrBadSection, kw)
	}
	names, err := parseHeaderList(fields)
	if err != nil {
		return Section{}, err
	}
	s.Fields = names
	return s, nil
}

// parseHeaderList parses header-list = "(" header-fld-name *(SP
// header-fld-name) ")" where a name is an astring.
func parseHeaderList(s string) ([]string, error) {
	if len(s) < 2 || s[0] != '(' || s[len(s)-1] != ')' {
		return nil, fmt.Errorf("%w: header list %q", ErrBadSection, s)
	}
	s = s[1 : len(s)-1]
	var names []string
	for {
		var name string
		switch {
		case s == "":
			return nil, fmt.Errorf("%w: empty header field name", ErrBadSection)
		case s[0] == '"':
			end := -1
			var b strings.Builder
			for i := 1; i < len(s); i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				} else if s[i] == '"' {
					end = i
					break
				}
				b.WriteByte(s[i])
			}
			if end < 0 {
				return nil, fmt.Errorf("%w: unterminated quoted field name", ErrBadSection)
			}
			name, s = b.String(), s[end+1:]
		default:
			i := 0
			for i < len(s) && s[i] != ' ' {
				if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
					return nil, fmt.Errorf("%w: bad character in field name %q", ErrBadSection, s)
				}
				i++
			}
			name, s = s[:i], s[i:]
		}
		names = append(names, name)
		if s == "" {
			return names, nil
		}
		if s[0] != ' ' || len(s) == 1 {
			return nil, fmt.Errorf("%w: header list", ErrBadSection)
		}
		s = s[1:]
	}
}
