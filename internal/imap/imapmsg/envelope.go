package imapmsg

import "strings"

// writeEnvelope writes the ENVELOPE of the entity whose header is h
// (RFC 3501 §7.4.2, RFC 9051 §7.5.2). Strings are sent as in the header,
// unfolded, with RFC 2047 encoded words left encoded.
func writeEnvelope(b *strings.Builder, h header) {
	b.WriteByte('(')
	writeEnvString(b, h, "Date")
	b.WriteByte(' ')
	writeEnvString(b, h, "Subject")

	from := envAddresses(h, "From")
	b.WriteByte(' ')
	writeAddressList(b, from)
	// RFC 3501 §7.4.2: an absent or empty Sender or Reply-To is set to From.
	for _, name := range []string{"Sender", "Reply-To"} {
		b.WriteByte(' ')
		if l := envAddresses(h, name); len(l) > 0 {
			writeAddressList(b, l)
		} else {
			writeAddressList(b, from)
		}
	}
	for _, name := range []string{"To", "Cc", "Bcc"} {
		b.WriteByte(' ')
		writeAddressList(b, envAddresses(h, name))
	}
	b.WriteByte(' ')
	writeEnvString(b, h, "In-Reply-To")
	b.WriteByte(' ')
	writeEnvString(b, h, "Message-ID")
	b.WriteByte(')')
}

// writeEnvString writes the first field named name as a string, or NIL
// when the field is absent. A present but empty field is "".
func writeEnvString(b *strings.Builder, h header, name string) {
	v, ok := h.get(name)
	if !ok {
		b.WriteString("NIL")
		return
	}
	appendString(b, v)
}

// envAddresses parses the first field named name as an address list.
func envAddresses(h header, name string) []address {
	v, ok := h.get(name)
	if !ok {
		return nil
	}
	return parseAddressList(v)
}

// writeAddressList writes a parenthesized list of addresses, or NIL for
// an empty list (RFC 3501 §9 env-from etc.).
func writeAddressList(b *strings.Builder, l []address) {
	if len(l) == 0 {
		b.WriteString("NIL")
		return
	}
	b.WriteByte('(')
	for _, a := range l {
		switch a.group {
		case groupStart:
			b.WriteString("(NIL NIL ")
			appendString(b, a.name) // never NIL: that would read as a group end
			b.WriteString(" NIL)")
		case groupEnd:
			b.WriteString("(NIL NIL NIL NIL)")
		default:
			b.WriteByte('(')
			appendNString(b, a.name)
			b.WriteByte(' ')
			appendNString(b, a.adl)
			b.WriteByte(' ')
			appendString(b, a.mailbox)
			b.WriteByte(' ')
			appendString(b, a.host)
			b.WriteByte(')')
		}
	}
	b.WriteByte(')')
}
