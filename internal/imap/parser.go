package imap

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parser reads the arguments of one command in wire form, as returned by
// readCommand: literals appear as "{n}\r\n" followed by n bytes. It never
// panics on malformed input; every method returns a *syntaxError instead.
type parser struct {
	b []byte
	i int
	// spooled are the command's literals readCommand put in files, in
	// order; only messageLiteral takes them.
	spooled []spooledLiteral
}

type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return e.msg }

func errSyntax(format string, args ...any) error {
	return &syntaxError{msg: fmt.Sprintf(format, args...)}
}

func isSyntaxError(err error) bool {
	var se *syntaxError
	return errors.As(err, &se)
}

func (p *parser) atEnd() bool { return p.i >= len(p.b) }

func (p *parser) peek() byte {
	if p.i >= len(p.b) {
		return 0
	}
	return p.b[p.i]
}

// consume skips c if it is next.
func (p *parser) consume(c byte) bool {
	if p.peek() == c && !p.atEnd() {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(c byte) error {
	if !p.consume(c) {
		return errSyntax("expected %q", c)
	}
	return nil
}

func (p *parser) sp() error { return p.expect(' ') }

// end checks that the command has no more arguments.
func (p *parser) end() error {
	if !p.atEnd() {
		return errSyntax("unexpected text after arguments")
	}
	return nil
}

// RFC 3501 §9: ATOM-CHAR is any CHAR except atom-specials.
func isAtomChar(c byte) bool {
	if c <= 0x1f || c >= 0x7f {
		return false
	}
	switch c {
	case '(', ')', '{', ' ', '%', '*', '"', '\\', ']':
		return false
	}
	return true
}

// isAStringChar also accepts 8-bit bytes (the line is valid UTF-8 by
// then): clients send UTF-8 mailbox names unquoted, and Dovecot takes them.
func isAStringChar(c byte) bool { return isAtomChar(c) || c == ']' || c >= 0x80 }

func isListChar(c byte) bool { return isAStringChar(c) || c == '%' || c == '*' }

// isTagChar: tag = 1*<any ASTRING-CHAR except "+">.
func isTagChar(c byte) bool { return isAStringChar(c) && c != '+' && c < 0x80 }

func (p *parser) takeWhile(ok func(byte) bool) string {
	start := p.i
	for p.i < len(p.b) && ok(p.b[p.i]) {
		p.i++
	}
	return string(p.b[start:p.i])
}

func (p *parser) atom() (string, error) {
	s := p.takeWhile(isAtomChar)
	if s == "" {
		return "", errSyntax("expected atom")
	}
	return s, nil
}

// word reads characters allowed by ok, at least one.
func (p *parser) word(ok func(byte) bool, what string) (string, error) {
	s := p.takeWhile(ok)
	if s == "" {
		return "", errSyntax("expected %s", what)
	}
	return s, nil
}

func (p *parser) number() (uint32, error) {
	s := p.takeWhile(isDigit)
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, errSyntax("expected number")
	}
	return uint32(v), nil
}

func (p *parser) number64() (uint64, error) {
	s := p.takeWhile(isDigit)
	v, err := strconv.ParseUint(s, 10, 63)
	if err != nil {
		return 0, errSyntax("expected number")
	}
	return v, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// quoted reads a quoted string (RFC 3501 §9 quoted).
func (p *parser) quoted() (string, error) {
	if err := p.expect('"'); err != nil {
		return "", err
	}
	var sb strings.Builder
	for p.i < len(p.b) {
		c := p.b[p.i]
		p.i++
		switch c {
		case '"':
			return sb.String(), nil
		case '\\':
			if p.i >= len(p.b) || (p.b[p.i] != '"' && p.b[p.i] != '\\') {
				return "", errSyntax("bad escape in quoted string")
			}
			sb.WriteByte(p.b[p.i])
			p.i++
		case '\r', '\n', 0:
			return "", errSyntax("bad character in quoted string")
		default:
			sb.WriteByte(c)
		}
	}
	return "", errSyntax("unterminated quoted string")
}

// literal reads "{n}\r\n" or "{n+}\r\n" and the n bytes that follow. A
// literal is CHAR8, which excludes NUL (RFC 9051 §4.3); only a literal8
// (literal8) may carry it.
func (p *parser) literal() ([]byte, error) {
	data, err := p.literalBytes()
	if err == nil && bytes.IndexByte(data, 0) >= 0 {
		return nil, errLiteralNUL
	}
	return data, err
}

// literal8 reads a literal or, after "~", a literal8 (RFC 3516 §4.4),
// whose bytes may include NUL.
func (p *parser) literal8() ([]byte, error) {
	if p.consume('~') {
		return p.literalBytes()
	}
	return p.literal()
}

// errLiteralNUL refuses NUL in a plain literal as the syntax error it is.
var errLiteralNUL = errSyntax("NUL is not allowed in a literal; send binary data in a literal8 ~{n} (BINARY)")

func (p *parser) literalBytes() ([]byte, error) {
	n, err := p.literalHead()
	if err != nil {
		return nil, err
	}
	if p.spoolAt() != nil {
		return nil, errSyntax("literal too large")
	}
	if n > uint64(len(p.b)-p.i) {
		return nil, errSyntax("literal is truncated")
	}
	data := p.b[p.i : p.i+int(n)]
	p.i += int(n)
	return data, nil
}

// messageLiteral is literal8 for a message (APPEND), which may have been
// spooled to a file: then spooled is set and data is nil. A spooled plain
// literal is scanned for NUL like one in memory.
func (p *parser) messageLiteral() (data []byte, spooled *spooledLiteral, err error) {
	save := p.i
	binary := p.consume('~')
	if _, err := p.literalHead(); err != nil {
		return nil, nil, err
	}
	if sl := p.spoolAt(); sl != nil {
		if !binary {
			if has, err := sl.hasNUL(); err != nil || has {
				return nil, nil, cmp.Or(err, errLiteralNUL)
			}
		}
		return nil, sl, nil
	}
	p.i = save
	data, err = p.literal8()
	return data, nil, err
}

// literalHead reads "{n}\r\n" or "{n+}\r\n".
func (p *parser) literalHead() (uint64, error) {
	if err := p.expect('{'); err != nil {
		return 0, err
	}
	n, err := p.number64()
	if err != nil {
		return 0, err
	}
	p.consume('+')
	if err := p.expect('}'); err != nil {
		return 0, err
	}
	if !p.consume('\r') || !p.consume('\n') {
		return 0, errSyntax("literal must end its line")
	}
	return n, nil
}

// spoolAt is the spooled literal whose bytes would start here, if any.
func (p *parser) spoolAt() *spooledLiteral {
	for i := range p.spooled {
		if p.spooled[i].at == p.i {
			return &p.spooled[i]
		}
	}
	return nil
}

// string reads a quoted string or a literal; text must be valid UTF-8.
func (p *parser) string() (string, error) {
	switch p.peek() {
	case '"':
		return p.quoted()
	case '{':
		b, err := p.literal()
		if err != nil {
			return "", err
		}
		if !utf8.Valid(b) {
			return "", errSyntax("invalid UTF-8 in literal")
		}
		return string(b), nil
	}
	return "", errSyntax("expected string")
}

// astring is an atom (with ']') or a string.
func (p *parser) astring() (string, error) {
	if c := p.peek(); c == '"' || c == '{' {
		return p.string()
	}
	return p.word(isAStringChar, "atom or string")
}

// listMailbox is a LIST pattern: list-char atoms (with % and *) or a string.
func (p *parser) listMailbox() (string, error) {
	if c := p.peek(); c == '"' || c == '{' {
		return p.string()
	}
	return p.word(isListChar, "mailbox pattern")
}

// nilOrString reads NIL or a string (nstring).
func (p *parser) nstring() (s string, isNil bool, err error) {
	if c := p.peek(); c == 'N' || c == 'n' {
		a, err := p.atom()
		if err != nil || !strings.EqualFold(a, "NIL") {
			return "", false, errSyntax("expected NIL or string")
		}
		return "", true, nil
	}
	s, err = p.string()
	return s, false, err
}

// list reads "(" item *(SP item) ")" calling item for each; "()" is allowed.
func (p *parser) list(item func() error) error {
	if err := p.expect('('); err != nil {
		return err
	}
	if p.consume(')') {
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		if p.consume(')') {
			return nil
		}
		if err := p.sp(); err != nil {
			return err
		}
	}
}

// flag reads a flag: "\" atom or a keyword atom.
func (p *parser) flag() (string, error) {
	if p.consume('\\') {
		a, err := p.atom()
		if err != nil {
			return "", err
		}
		return canonicalFlag("\\" + a)
	}
	a, err := p.atom()
	if err != nil {
		return "", err
	}
	return a, nil
}

// flagList reads "(" [flag *(SP flag)] ")".
func (p *parser) flagList() ([]string, error) {
	var flags []string
	err := p.list(func() error {
		f, err := p.flag()
		flags = append(flags, f)
		return err
	})
	return flags, err
}

var systemFlags = []string{`\Answered`, `\Flagged`, `\Deleted`, `\Seen`, `\Draft`}

// canonicalFlag spells system flags canonically; \Recent and unknown
// backslash flags are rejected (RFC 3501 §2.3.2).
func canonicalFlag(f string) (string, error) {
	for _, sf := range systemFlags {
		if strings.EqualFold(f, sf) {
			return sf, nil
		}
	}
	return "", errSyntax("unknown system flag %s", f)
}

// parseCommandHead reads "tag SP command-name" and, for UID, the
// following name ("UID FETCH").
func parseCommandHead(p *parser) (tag, name string, err error) {
	tag = p.takeWhile(isTagChar)
	if tag == "" {
		return "", "", errSyntax("missing tag")
	}
	if err := p.sp(); err != nil {
		return tag, "", errSyntax("missing command")
	}
	name, err = p.atom()
	if err != nil {
		return tag, "", errSyntax("missing command")
	}
	name = strings.ToUpper(name)
	if name == "UID" {
		if err := p.sp(); err != nil {
			return tag, "", err
		}
		sub, err := p.atom()
		if err != nil {
			return tag, "", err
		}
		name += " " + strings.ToUpper(sub)
	}
	return tag, name, nil
}
