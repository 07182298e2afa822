package imapmsg

import "strings"

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
