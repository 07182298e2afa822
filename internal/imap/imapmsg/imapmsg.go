// Package imapmsg computes what IMAP needs from a raw RFC 5322 message: the
// ENVELOPE and BODYSTRUCTURE wire forms, body sections with partials, and
// header and text matching for SEARCH. It never fails on broken input:
// malformed MIME degrades to a single text/plain part, as Dovecot does.
package imapmsg

import (
	"strings"
	"sync"
)

// Specifier names the part of a section in FETCH BODY[...] (RFC 3501 §6.4.5).
type Specifier string

const (
	SpecAll             Specifier = ""
	SpecHeader          Specifier = "HEADER"
	SpecHeaderFields    Specifier = "HEADER.FIELDS"
	SpecHeaderFieldsNot Specifier = "HEADER.FIELDS.NOT"
	SpecText            Specifier = "TEXT"
	SpecMIME            Specifier = "MIME"
)

// Section is a parsed BODY[...] section: a part path (1-based, empty for the
// whole message), a specifier and, for HEADER.FIELDS[.NOT], the field names.
type Section struct {
	Part   []int
	Spec   Specifier
	Fields []string
}

// Message is a parsed message. Parse keeps a reference to raw; the caller
// must not modify it afterwards. Methods are safe for concurrent use; the
// header and the MIME tree are each parsed once, on first need, so a FETCH
// of only BODY[] or ENVELOPE does not pay for the MIME tree.
type Message struct {
	raw     []byte
	once    sync.Once
	root    *part
	hdrOnce sync.Once
	hdr     header
	bodyAt  int // offset of the top-level body
}

// Parse parses raw (CRLF line endings expected, bare LF tolerated).
func Parse(raw []byte) *Message { return &Message{raw: raw} }

// header returns the top-level header; ENVELOPE and SEARCH HEADER need
// only this, not the MIME tree.
func (m *Message) header() header {
	m.hdrOnce.Do(func() { m.hdr, m.bodyAt = parseHeader(m.raw, 0, len(m.raw)) })
	return m.hdr
}

// tree returns the parsed MIME tree, parsing on first use.
func (m *Message) tree() *part {
	m.once.Do(func() { m.root = parseEntity(m.raw, 0, len(m.raw), defaultText, 0) })
	return m.root
}

// Envelope returns the ENVELOPE structure in IMAP wire form, starting with
// "(" (RFC 3501 §7.4.2), with strings quoted or as literals as needed.
func (m *Message) Envelope() string {
	var b strings.Builder
	writeEnvelope(&b, m.header())
	return b.String()
}

// BodyStructure returns the BODYSTRUCTURE (extended=true) or BODY
// (extended=false) structure in IMAP wire form.
func (m *Message) BodyStructure(extended bool) string {
	var b strings.Builder
	writeBody(&b, m.raw, m.tree(), extended)
	return b.String()
}

// Section returns the bytes of a section. A part that does not exist yields
// an empty result (RFC 3501 says the server returns an empty string).
// The result aliases the raw message except for HEADER.FIELDS[.NOT]; the
// caller must not modify it. Sections of the top level (whole, HEADER,
// TEXT, HEADER.FIELDS) parse only the header, so they are cheap.
func (m *Message) Section(s Section) []byte {
	if len(s.Part) == 0 {
		// The top-level header and text need no MIME parse.
		h := m.header()
		switch s.Spec {
		case SpecAll:
			return m.raw
		case SpecHeader:
			return m.raw[:m.bodyAt]
		case SpecText:
			return m.raw[m.bodyAt:]
		case SpecHeaderFields:
			return headerSubset(h, s.Fields, true)
		case SpecHeaderFieldsNot:
			return headerSubset(h, s.Fields, false)
		}
		return nil
	}
	return section(m.raw, m.tree(), s)
}

// HeaderValues returns the decoded values of a header field of the top-level
// message (RFC 2047 encoded words decoded to UTF-8), in order.
func (m *Message) HeaderValues(name string) []string {
	return headerValues(m.header(), name)
}

// HasHeader reports whether a header field named name contains substr,
// case-insensitively (SEARCH HEADER; an empty substr matches any field).
func (m *Message) HasHeader(name, substr string) bool {
	return hasHeader(m.header(), name, substr)
}

// HasAddress reports whether an address field named name contains substr
// (SEARCH FROM, TO, CC, BCC); see hasAddress.
func (m *Message) HasAddress(name, substr string) bool {
	return hasAddress(m.header(), name, substr)
}

// BodyContains reports whether the decoded text of the body parts contains
// substr case-insensitively (SEARCH BODY); with headers=true the header
// fields are searched too (SEARCH TEXT). It looks at the same text as
// SearchText, so a full-text index built from that agrees with it.
func (m *Message) BodyContains(substr string, headers bool) bool {
	needle := fold(substr)
	if needle == "" {
		return true
	}
	root := m.tree()
	found := false
	match := func(s string) bool {
		found = strings.Contains(s, needle)
		return !found
	}
	if headers {
		walkHeader(root.hdr, capped(match))
	}
	if !found {
		walkText(m.raw, root, capped(match))
	}
	return found
}
