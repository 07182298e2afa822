// Package imapmsg computes what IMAP needs from a raw RFC 5322 message: the
// ENVELOPE and BODYSTRUCTURE wire forms, body sections with partials, and
// header and text matching for SEARCH. It never fails on broken input:
// malformed MIME degrades to a single text/plain part, as Dovecot does.
package imapmsg

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
// must not modify it afterwards.
type Message struct {
	raw []byte
}

// Parse parses raw (CRLF line endings expected, bare LF tolerated).
func Parse(raw []byte) *Message { return &Message{raw: raw} }

// Envelope returns the ENVELOPE structure in IMAP wire form, starting with
// "(" (RFC 3501 §7.4.2), with strings quoted or as literals as needed.
func (m *Message) Envelope() string { panic("imapmsg: Envelope not implemented") }

// BodyStructure returns the BODYSTRUCTURE (extended=true) or BODY
// (extended=false) structure in IMAP wire form.
func (m *Message) BodyStructure(extended bool) string {
	panic("imapmsg: BodyStructure not implemented")
}

// Section returns the bytes of a section. A part that does not exist yields
// an empty result (RFC 3501 says the server returns an empty string).
func (m *Message) Section(s Section) []byte { panic("imapmsg: Section not implemented") }

// HeaderValues returns the decoded values of a header field of the top-level
// message (RFC 2047 encoded words decoded to UTF-8), in order.
func (m *Message) HeaderValues(name string) []string {
	panic("imapmsg: HeaderValues not implemented")
}

// HasHeader reports whether a header field named name contains substr,
// case-insensitively (SEARCH HEADER; an empty substr matches any field).
func (m *Message) HasHeader(name, substr string) bool { panic("imapmsg: HasHeader not implemented") }

// BodyContains reports whether the decoded text of the body parts contains
// substr case-insensitively (SEARCH BODY); with headers=true the header
// fields are searched too (SEARCH TEXT).
func (m *Message) BodyContains(substr string, headers bool) bool {
	panic("imapmsg: BodyContains not implemented")
}
