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

// FirstMailbox returns the addr-mailbox (local part) of the first address
// in the first field named name, or "" when there is none. It is the SORT
// key for FROM, TO and CC (RFC 5256 §3); group markers are skipped, and a
// mailbox the parser had to invent counts as missing.
func (m *Message) FirstMailbox(name string) string {
	for _, a := range envAddresses(m.header(), name) {
		if a.group != notGroup {
			continue
		}
		if a.mailbox == missingMailbox {
			return ""
		}
		return strings.TrimSpace(a.mailbox)
	}
	return ""
}
