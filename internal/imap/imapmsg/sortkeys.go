package imapmsg

import (
	"net/mail"
	"strings"
	"time"
)

// SentDate is the time of the first Date field, the sent date of SORT
// (RFC 5256 §2.2); false when there is none or it does not parse, and the
// caller falls back to the internal date.
func (m *Message) SentDate() (time.Time, bool) {
	v := m.HeaderValues("Date")
	if len(v) == 0 {
		return time.Time{}, false
	}
	t, err := mail.ParseDate(v[0])
	return t, err == nil
}

// SentDate is Message.SentDate of a header section; the mailstore keeps it
// so that SORT (DATE) need not read headers.
func SentDate(header []byte) (time.Time, bool) { return Parse(header).SentDate() }

// FirstMailbox returns the addr-mailbox of the first address in the
// first field named name, or "" when there is none: the SORT key for
// FROM, TO and CC (RFC 5256 §3). As in the ENVELOPE, the first address of
// a group is its start marker, whose addr-mailbox is the group name; a
// mailbox the parser had to invent counts as missing.
func (m *Message) FirstMailbox(name string) string {
	l := envAddresses(m.header(), name)
	if len(l) == 0 || l[0].mailbox == missingMailbox {
		return ""
	}
	if l[0].group == groupStart {
		return l[0].name
	}
	return strings.TrimSpace(l[0].mailbox)
}

// DisplayName returns the SORT key of DISPLAYFROM and DISPLAYTO (RFC 5957
// §3) for the first field named name: the decoded display name of its
// first address if it has one, else its addr-spec; a group's name.
func (m *Message) DisplayName(name string) string {
	l := envAddresses(m.header(), name)
	if len(l) == 0 {
		return ""
	}
	a := l[0]
	if n := decodeHeaderValue(a.name); n != "" || a.group == groupStart {
		return n
	}
	if a.mailbox == missingMailbox {
		return ""
	}
	return a.addrSpec()
}
