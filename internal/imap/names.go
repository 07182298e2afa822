package imap

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// mailboxArg reads a mailbox name and converts it to the store's form:
// UTF-8 (decoded from modified UTF-7 unless UTF8=ACCEPT is enabled, RFC 6855
// §3), with any case of "INBOX" as the first level spelled "INBOX".
func (s *session) mailboxArg(p *parser) (string, error) {
	raw, err := p.astring()
	if err != nil {
		return "", err
	}
	return s.decodeMailbox(raw)
}

// errNotMUTF7: a name of legal atom characters that is not valid modified
// UTF-7 is a name no mailbox has, so a lookup answers NO, not BAD (as
// Dovecot does).
var errNotMUTF7 = errNo("NONEXISTENT", "No such mailbox (name is not valid modified UTF-7)")

// newMailboxArg is mailboxArg for a name the command would create.
func (s *session) newMailboxArg(p *parser) (string, error) {
	name, err := s.mailboxArg(p)
	if errors.Is(err, errNotMUTF7) {
		return "", errNo("CANNOT", "Mailbox name is not valid modified UTF-7")
	}
	return name, err
}

func (s *session) decodeMailbox(raw string) (string, error) {
	name := raw
	if !s.utf8 && isASCII(raw) {
		var err error
		if name, err = decodeMUTF7(raw); err != nil {
			return "", errNotMUTF7
		}
	}
	// Raw UTF-8 from a client that did not ENABLE it is accepted as is.
	return normalizeInbox(name), nil
}

func normalizeInbox(name string) string {
	first, rest, hasRest := strings.Cut(name, mailstore.Separator)
	if strings.EqualFold(first, mailstore.Inbox) {
		if hasRest {
			return mailstore.Inbox + mailstore.Separator + rest
		}
		return mailstore.Inbox
	}
	return name
}

// mailboxName renders a store name for the client, quoted.
func (s *session) mailboxName(name string) string {
	if !s.utf8 {
		name = encodeMUTF7(name)
	}
	return s.quote(name)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// quote renders s as a quoted string, or as a literal when it cannot be
// quoted (CR, LF, NUL, 8-bit text before UTF8=ACCEPT, or very long).
func (s *session) quote(str string) string {
	return quoteIMAP(str, s.utf8)
}

func quoteIMAP(str string, utf8OK bool) string {
	literal := len(str) > 4096 || !utf8.ValidString(str)
	for i := 0; i < len(str) && !literal; i++ {
		c := str[i]
		if c == '\r' || c == '\n' || c == 0 || (c >= 0x80 && !utf8OK) {
			literal = true
		}
	}
	if literal {
		return "{" + strconv.Itoa(len(str)) + "}\r\n" + str
	}
	var sb strings.Builder
	sb.Grow(len(str) + 2)
	sb.WriteByte('"')
	for i := 0; i < len(str); i++ {
		if str[i] == '"' || str[i] == '\\' {
			sb.WriteByte('\\')
		}
		sb.WriteByte(str[i])
	}
	sb.WriteByte('"')
	return sb.String()
}
