package imapmsg

import "strings"

// address is one element of an IMAP address list (RFC 3501 §7.4.2): a
// mailbox, or a group start or end marker.
type address struct {
	name, adl, mailbox, host string
	group                    groupMark
}

type groupMark int

const (
	notGroup   groupMark = iota
	groupStart           // (NIL NIL "name" NIL)
	groupEnd             // (NIL NIL NIL NIL)
)

// addrSpec is "mailbox@host" of a mailbox, or just the mailbox when the
// host is missing.
func (a address) addrSpec() string {
	if a.host == "" || a.host == missingDomain {
		return a.mailbox
	}
	return a.mailbox + "@" + a.host
}

// display renders a for matching: "name <mailbox@host>" with the name's
// encoded words decoded, or a group's name.
func (a address) display() string {
	name := decodeHeaderValue(a.name)
	switch {
	case a.group == groupStart:
		return name
	case name == "":
		return a.addrSpec()
	}
	return name + " <" + a.addrSpec() + ">"
}

// Placeholders for parts missing from a malformed address. A NIL host
// would mean a group marker, so something must be sent; these are the
// values Dovecot uses.
const (
	missingMailbox = "MISSING_MAILBOX"
	missingDomain  = "MISSING_DOMAIN"
)

// tokKind classifies an address-list token (RFC 5322 §3.2, §3.4).
type tokKind int

const (
	tokAtom    tokKind = iota // atom, or a domain literal [...]
	tokQuoted                 // quoted-string; text holds the unquoted value
	tokComment                // comment; text holds its contents
	tokSpecial                // one of < > @ , ; : .
)

type token struct {
	kind        tokKind
	text        string // unquoted text
	raw         string // text as written
	spaceBefore bool
}

func (t token) is(c byte) bool { return t.kind == tokSpecial && t.text[0] == c }

// tokenize splits an unfolded address-list value into tokens. It accepts
// anything: unterminated quotes and comments run to the end.
func tokenize(s string) []token {
	var toks []token
	space := false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			space = true
			i++
			continue
		case c == '"':
			val, rest := cutQuoted(s[i:])
			n := len(s) - len(rest)
			toks = append(toks, token{kind: tokQuoted, text: val, raw: s[i:n], spaceBefore: space})
			i = n
		case c == '(':
			text, rest := cutComment(s[i:])
			n := len(s) - len(rest)
			toks = append(toks, token{kind: tokComment, text: strings.TrimSpace(text), raw: s[i:n], spaceBefore: space})
			i = n
		case c == '[':
			j := strings.IndexByte(s[i:], ']')
			n := len(s)
			if j >= 0 {
				n = i + j + 1
			}
			toks = append(toks, token{kind: tokAtom, text: s[i:n], raw: s[i:n], spaceBefore: space})
			i = n
		case strings.IndexByte("<>@,;:.", c) >= 0:
			toks = append(toks, token{kind: tokSpecial, text: s[i : i+1], raw: s[i : i+1], spaceBefore: space})
			i++
		default:
			j := i
			for j < len(s) && strings.IndexByte(" \t\r\n\"()[<>@,;:.", s[j]) < 0 {
				j++
			}
			if j == i { // a stray ] or similar
				j++
			}
			toks = append(toks, token{kind: tokAtom, text: s[i:j], raw: s[i:j], spaceBefore: space})
			i = j
		}
		space = false
	}
	return toks
}

// parseAddressList parses an address-list header value (RFC 5322 §3.4)
// best-effort: whatever the input, it returns the addresses it can find,
// with groups bracketed by start and end markers (RFC 3501 §7.4.2).
func parseAddressList(s string) []address {
	toks := tokenize(s)
	var out []address
	inGroup := false
	for i := 0; i < len(toks); {
		t := toks[i]
		switch {
		case t.is(',') || t.is('>') || (t.is(':') && inGroup):
			i++
			continue
		case t.is(';'):
			if inGroup {
				out = append(out, address{group: groupEnd})
				inGroup = false
			}
			i++
			continue
		}
		// A phrase: display name, group name or local-part.
		j := i
		var phrase []token
		comment := ""
		for ; j < len(toks); j++ {
			u := toks[j]
			if u.is('<') || u.is('@') || u.is(',') || u.is(';') || (u.is(':') && !inGroup) {
				break
			}
			if u.kind == tokComment {
				comment = u.text
				continue
			}
			phrase = append(phrase, u)
		}
		switch {
		case j < len(toks) && toks[j].is(':'):
			out = append(out, address{name: joinPhrase(phrase), group: groupStart})
			inGroup = true
			i = j + 1
			continue
		case j < len(toks) && toks[j].is('<'):
			a, next := parseAngleAddr(toks, j+1)
			a.name = joinPhrase(phrase)
			if a.name == "" {
				a.name = comment
			}
			out = appendAddress(out, a)
			i = next
		case len(phrase) == 0 && (j == len(toks) || !toks[j].is('@')):
			// Only comments: white space, not an address (RFC 5322
			// §3.2.2), as in "group: (nobody) ;".
			i = j
			continue
		default:
			var a address
			i = j
			if i < len(toks) && toks[i].is('@') {
				a.mailbox = joinRaw(phrase)
				a.host, i = parseDomain(toks, i+1)
			} else {
				a.mailbox = joinPhrase(phrase) // a bare word such as "undisclosed-recipients"
			}
			// A trailing comment is the old-style display name: a@b (Name).
			for i < len(toks) && toks[i].kind == tokComment {
				comment = toks[i].text
				i++
			}
			a.name = comment
			out = appendAddress(out, a)
		}
	}
	if inGroup {
		out = append(out, address{group: groupEnd})
	}
	return out
}

// parseAngleAddr parses "[@route,@route:]local@domain>" starting after '<'.
// It returns the address and the index after the closing '>'.
func parseAngleAddr(toks []token, i int) (address, int) {
	var a address
	// RFC 5322 §4.4 obs-route, reported as the at-domain-list (adl).
	if i < len(toks) && toks[i].is('@') {
		j := i
		for j < len(toks) && !toks[j].is(':') && !toks[j].is('>') {
			j++
		}
		if j < len(toks) && toks[j].is(':') {
			a.adl = joinRaw(toks[i:j])
			i = j + 1
		}
	}
	j := i
	for j < len(toks) && !toks[j].is('@') && !toks[j].is('>') {
		j++
	}
	var local []token
	for _, t := range toks[i:j] {
		if t.kind != tokComment {
			local = append(local, t)
		}
	}
	a.mailbox = joinRaw(local)
	i = j
	if i < len(toks) && toks[i].is('@') {
		a.host, i = parseDomain(toks, i+1)
	}
	for i < len(toks) && !toks[i].is('>') && !toks[i].is(',') && !toks[i].is(';') {
		i++
	}
	if i < len(toks) && toks[i].is('>') {
		i++
	}
	return a, i
}

// parseDomain reads a domain (dot-atom or domain literal) from toks[i:].
// It stops at a separator or at a word after white space, which starts
// the next address when a comma is missing.
func parseDomain(toks []token, i int) (string, int) {
	var b strings.Builder
	for ; i < len(toks); i++ {
		t := toks[i]
		if t.kind == tokComment {
			if b.Len() > 0 {
				break // a trailing comment, maybe the display name
			}
			continue
		}
		if t.kind == tokSpecial && !t.is('.') {
			break
		}
		if b.Len() > 0 && t.spaceBefore && !t.is('.') && !strings.HasSuffix(b.String(), ".") {
			break
		}
		b.WriteString(t.raw)
	}
	return b.String(), i
}

// appendAddress adds a mailbox, filling missing pieces so the host is
// never NIL (which would read as a group marker). Empty entries vanish.
func appendAddress(out []address, a address) []address {
	if a.mailbox == "" && a.host == "" {
		if a.name == "" {
			return out
		}
	}
	if a.mailbox == "" {
		a.mailbox = missingMailbox
	}
	if a.host == "" {
		a.host = missingDomain
	}
	return append(out, a)
}

// joinPhrase joins display-name words with single spaces, unquoting
// quoted strings (RFC 5322 §3.2.5). Encoded words stay encoded.
func joinPhrase(toks []token) string {
	var b strings.Builder
	for _, t := range toks {
		if b.Len() > 0 && t.spaceBefore {
			b.WriteByte(' ')
		}
		b.WriteString(t.text)
	}
	return b.String()
}

// joinRaw concatenates tokens as written, for local-parts and routes.
func joinRaw(toks []token) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.raw)
	}
	return b.String()
}
