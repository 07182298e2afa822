package imapmsg

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime/quotedprintable"
	"strings"
)

// Errors of Binary; the IMAP layer maps them to response codes.
var (
	ErrUnknownCTE  = errors.New("unknown Content-Transfer-Encoding")   // NO [UNKNOWN-CTE] (RFC 3516 §4.2)
	ErrBadEncoding = errors.New("content does not match its encoding") // NO [PARSE]
)

// Binary returns section s with every Content-Transfer-Encoding undone,
// for FETCH BINARY[...] (RFC 3516 §4.2, RFC 9051 §6.4.5). An empty path is
// the whole message, header included; a leaf part is its decoded body; a
// message or multipart part is its body with the leaves inside decoded in
// place, each decoded leaf's Content-Transfer-Encoding field rewritten to
// "binary" so that the result describes itself. A leaf inside whose
// encoding is unknown or broken stays as written; only the requested leaf
// itself fails with ErrUnknownCTE or ErrBadEncoding. Header specifiers
// (HEADER, HEADER.FIELDS, MIME; accepted as Dovecot does) are never
// encoded and return what BODY[] would. A missing part is empty.
func (m *Message) Binary(s Section) ([]byte, error) {
	p, atMessage := resolvePart(m.tree(), s.Part)
	if p == nil {
		return nil, nil
	}
	switch s.Spec {
	case SpecAll:
		if atMessage {
			return appendBinaryEntity(nil, m.raw, p)
		}
		return appendBinaryBody(nil, m.raw, p)
	case SpecText:
		if !atMessage {
			if p.kind != kindMessage {
				return nil, nil
			}
			p = p.msg
		}
		return appendBinaryBody(nil, m.raw, p)
	}
	return m.Section(s), nil
}

// appendBinaryEntity appends p's header and decoded body. The header is
// copied as written unless the body is decoded.
func appendBinaryEntity(out, raw []byte, p *part) ([]byte, error) {
	if p.kind != kindLeaf || isIdentityEncoding(p.encoding()) {
		out = append(out, raw[p.start:p.bodyStart]...)
		return appendBinaryBody(out, raw, p)
	}
	dec, err := decodeStrict(p.encoding(), raw[p.bodyStart:p.end])
	if err != nil {
		return append(out, raw[p.start:p.end]...), err
	}
	pos := p.start
	for _, f := range p.hdr.fields {
		if asciiEqualFold(f.name, "Content-Transfer-Encoding") {
			out = append(out, raw[pos:f.start]...)
			out = append(out, "Content-Transfer-Encoding: binary\r\n"...)
			pos = f.end
		}
	}
	out = append(out, raw[pos:p.bodyStart]...)
	return append(out, dec...), nil
}

// appendBinaryBody appends p's body with its leaves decoded.
func appendBinaryBody(out, raw []byte, p *part) ([]byte, error) {
	switch p.kind {
	case kindMessage:
		return appendInner(out, raw, p.msg), nil
	case kindMultipart:
		pos := p.bodyStart
		for _, c := range p.children {
			out = append(out, raw[pos:c.start]...)
			out = appendInner(out, raw, c)
			pos = c.end
		}
		return append(out, raw[pos:p.end]...), nil
	}
	dec, err := decodeStrict(p.encoding(), raw[p.bodyStart:p.end])
	return append(out, dec...), err
}

// appendInner appends a nested entity decoded, or as written when its
// encoding cannot be undone: the section asked for is the enclosing one,
// whose own encoding is fine.
func appendInner(out, raw []byte, p *part) []byte {
	n := len(out)
	out, err := appendBinaryEntity(out, raw, p)
	if err != nil {
		return append(out[:n], raw[p.start:p.end]...)
	}
	return out
}

// decodeStrict undoes a transfer encoding, failing on malformed input
// (unlike decodeBody, which SEARCH uses and which never fails).
func decodeStrict(enc string, body []byte) ([]byte, error) {
	switch strings.ToLower(enc) {
	case "", "7bit", "8bit", "binary":
		return body, nil
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, body)
		clean = bytes.TrimRight(clean, "=")
		out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
		n, err := base64.RawStdEncoding.Decode(out, clean)
		if err != nil {
			return nil, ErrBadEncoding
		}
		return out[:n], nil
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil {
			return nil, ErrBadEncoding
		}
		return out, nil
	}
	return nil, ErrUnknownCTE
}
