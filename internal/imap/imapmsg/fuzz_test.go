package imapmsg

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParse checks that no input makes any method panic, that the whole
// message section is the input, that every section is part of the input
// (HEADER.FIELDS aside) and that ENVELOPE and BODYSTRUCTURE are
// well-formed IMAP parenthesized lists.
func FuzzParse(f *testing.F) {
	for _, s := range []string{msgSimple, msgAlternative, msgMixed, msgNested, msgGroups, msgEncoded, msgDigest, "", "\r\n"} {
		f.Add([]byte(s))
	}
	specs := []string{"", "HEADER", "TEXT", "1", "2", "1.MIME", "2.HEADER", "2.TEXT", "2.1", "1.1.1", "3.2.MIME",
		"HEADER.FIELDS (From Subject)", "1.HEADER.FIELDS.NOT (To)"}
	sections := make([]Section, len(specs))
	for i, spec := range specs {
		s, err := ParseSection(spec)
		if err != nil {
			f.Fatalf("ParseSection(%q): %v", spec, err)
		}
		sections[i] = s
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		// Go fuzzing has no hang detection; a parser loop that never ends
		// would otherwise look like a stalled fuzzer.
		wd := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("no progress after 10s on %q", raw)) })
		defer wd.Stop()
		m := Parse(raw)
		if got := m.Section(Section{}); !bytes.Equal(got, raw) {
			t.Fatalf("Section(whole) differs from input")
		}
		for _, s := range sections {
			got := m.Section(s)
			if len(s.Part) == 0 && !bytes.Equal(got, section(raw, m.tree(), s)) {
				t.Fatalf("Section %+v: header-only path and MIME tree disagree", s)
			}
			if s.Spec != SpecHeaderFields && s.Spec != SpecHeaderFieldsNot && !bytes.Contains(raw, got) {
				t.Fatalf("Section %+v = %q is not part of the input", s, got)
			}
		}
		for _, out := range []string{m.Envelope(), m.BodyStructure(true), m.BodyStructure(false)} {
			if err := checkList(out); err != nil {
				t.Fatalf("malformed %q: %v", out, err)
			}
		}
		m.HeaderValues("Subject")
		m.HasHeader("From", "a")
		m.BodyContains("é", true)
		m.BodyContains("x", false)
		m.HasAddress("To", "a")
		m.FirstMailbox("Cc")
		m.DisplayName("From")
		for _, s := range sections {
			m.Binary(s)
		}
	})
}

// FuzzAddressList checks that any field value parses to well-formed
// ENVELOPE addresses: mailboxes with a mailbox and host, group start and
// end markers in pairs and never nested.
func FuzzAddressList(f *testing.F) {
	for _, s := range []string{
		"group:;, group2: (foo) ;",
		"<user-from (comment)@ (comment) domain.org>",
		"Name <@r1,@r2:user@domain>, \"q \\\" x\"@[1.2.3.4] (c (nested) c)",
		"g: a@b, (x) c <d@e>;, f@g (Name)",
		"unclosed: <a@b", "(", "\"", "<", ":", ";;;", "@@@", "=?utf-8?q?x?= <a@b>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l := parseAddressList(s)
		inGroup := false
		for _, a := range l {
			switch a.group {
			case groupStart:
				if inGroup {
					t.Fatalf("%q: nested group in %+v", s, l)
				}
				inGroup = true
			case groupEnd:
				if !inGroup {
					t.Fatalf("%q: group end without start in %+v", s, l)
				}
				inGroup = false
			default:
				if a.mailbox == "" || a.host == "" {
					t.Fatalf("%q: empty mailbox or host in %+v", s, l)
				}
			}
		}
		if inGroup {
			t.Fatalf("%q: unterminated group in %+v", s, l)
		}
		var b strings.Builder
		writeAddressList(&b, l)
		if out := b.String(); out != "NIL" {
			if err := checkList(out); err != nil {
				t.Fatalf("%q: malformed %q: %v", s, out, err)
			}
		}
		m := Parse([]byte("To: " + s + "\r\n\r\n"))
		m.HasAddress("To", "a")
		m.FirstMailbox("To")
		m.DisplayName("To")
	})
}

// checkList verifies that s is exactly one IMAP parenthesized list made
// of nested lists, NIL, numbers, quoted strings and literals.
func checkList(s string) error {
	if !strings.HasPrefix(s, "(") {
		return fmt.Errorf("does not start with (")
	}
	rest, err := checkValue(s)
	if err != nil {
		return err
	}
	if rest != "" {
		return fmt.Errorf("trailing %q", rest)
	}
	return nil
}

func checkValue(s string) (string, error) {
	switch {
	case s == "":
		return "", fmt.Errorf("unexpected end")
	case s[0] == '(':
		s = s[1:]
		for first := true; ; first = false {
			if strings.HasPrefix(s, ")") {
				if first {
					return "", fmt.Errorf("empty list")
				}
				return s[1:], nil
			}
			if !first && !strings.HasPrefix(s, " ") && !strings.HasPrefix(s, "(") {
				return "", fmt.Errorf("missing separator at %q", s)
			}
			s = strings.TrimPrefix(s, " ")
			var err error
			if s, err = checkValue(s); err != nil {
				return "", err
			}
		}
	case strings.HasPrefix(s, "NIL"):
		return s[3:], nil
	case s[0] == '"':
		for i := 1; i < len(s); i++ {
			switch c := s[i]; {
			case c == '\\':
				if i+1 >= len(s) || (s[i+1] != '"' && s[i+1] != '\\') {
					return "", fmt.Errorf("bad escape")
				}
				i++
			case c == '"':
				return s[i+1:], nil
			case c == '\r' || c == '\n' || c == 0 || c >= 0x80:
				return "", fmt.Errorf("bad character %q in quoted string", c)
			}
		}
		return "", fmt.Errorf("unterminated quoted string")
	case s[0] == '{':
		end := strings.Index(s, "}\r\n")
		if end < 0 {
			return "", fmt.Errorf("bad literal")
		}
		n, err := strconv.Atoi(s[1:end])
		if err != nil || n > len(s)-end-3 {
			return "", fmt.Errorf("bad literal length")
		}
		if strings.IndexByte(s[end+3:end+3+n], 0) >= 0 {
			return "", fmt.Errorf("NUL in literal")
		}
		return s[end+3+n:], nil
	case s[0] >= '0' && s[0] <= '9':
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return s[i:], nil
	}
	return "", fmt.Errorf("unexpected %q", s)
}
