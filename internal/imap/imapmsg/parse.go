package imapmsg

import (
	"bytes"
	"strings"
)

// maxDepth bounds multipart and message/rfc822 nesting. Deeper entities are
// treated as opaque leaves, so hostile input cannot make parsing quadratic
// or exhaust the stack.
const maxDepth = 64

// partKind says how an entity's body is structured.
type partKind int

const (
	kindLeaf      partKind = iota
	kindMultipart          // body holds children separated by boundaries
	kindMessage            // body is an embedded message (message/rfc822)
)

// part is one MIME entity: the top-level message, a body part of a
// multipart, or an embedded message. Offsets index the Message's raw bytes.
type part struct {
	start, bodyStart, end int // header is raw[start:bodyStart] (blank line included), body raw[bodyStart:end]
	hdr                   header

	typ, sub string // media type as written in the message (or the default)
	params   []param
	kind     partKind
	children []*part // kindMultipart: the body parts, at least one
	msg      *part   // kindMessage: the embedded message
}

// defaultType is the implicit Content-Type of an entity (RFC 2045 §5.2,
// RFC 2046 §5.1.5 for multipart/digest children).
type defaultType int

const (
	defaultText defaultType = iota
	defaultRFC822
)

// parseEntity parses the entity in raw[start:end]. It never fails; any
// malformation degrades to a leaf part.
func parseEntity(raw []byte, start, end int, def defaultType, depth int) *part {
	h, bodyStart := parseHeader(raw, start, end)
	p := &part{start: start, bodyStart: bodyStart, end: end, hdr: h}

	ct, hasCT := h.get("Content-Type")
	typ, sub, params, ok := parseMediaType(ct)
	switch {
	case ok:
		p.typ, p.sub, p.params = typ, sub, params
	case hasCT || def == defaultText:
		// RFC 2045 §5.2: a missing or syntactically invalid Content-Type
		// means text/plain; charset=us-ascii.
		p.typ, p.sub, p.params = "text", "plain", []param{{"charset", "us-ascii"}}
	default:
		p.typ, p.sub = "message", "rfc822"
	}

	if depth >= maxDepth {
		return p
	}
	switch {
	case strings.EqualFold(p.typ, "multipart"):
		boundary := lookupParam(p.params, "boundary")
		if boundary == "" {
			// Without a boundary the parts cannot be found; present the
			// entity as plain text, as Dovecot does.
			p.typ, p.sub, p.params = "text", "plain", []param{{"charset", "us-ascii"}}
			return p
		}
		p.kind = kindMultipart
		childDef := defaultText
		if strings.EqualFold(p.sub, "digest") {
			childDef = defaultRFC822
		}
		for _, r := range splitMultipart(raw, bodyStart, end, boundary) {
			p.children = append(p.children, parseEntity(raw, r[0], r[1], childDef, depth+1))
		}
		if len(p.children) == 0 {
			// RFC 3501 §9 requires at least one body in a multipart; like
			// Dovecot, report a single empty text/plain part.
			p.children = []*part{{
				start: end, bodyStart: end, end: end, hdr: header{raw: raw},
				typ: "text", sub: "plain", params: []param{{"charset", "us-ascii"}},
			}}
		}
	case isMessageType(p.typ, p.sub) && isIdentityEncoding(p.encoding()):
		p.kind = kindMessage
		p.msg = parseEntity(raw, bodyStart, end, defaultText, depth+1)
	}
	return p
}

// isMessageType reports whether typ/sub encapsulates a whole message
// (RFC 3501 §7.4.2 MESSAGE/RFC822; RFC 9051 §7.5.2 adds MESSAGE/GLOBAL).
func isMessageType(typ, sub string) bool {
	return strings.EqualFold(typ, "message") && (strings.EqualFold(sub, "rfc822") || strings.EqualFold(sub, "global"))
}

// isIdentityEncoding reports whether a body in this transfer encoding can
// be parsed as is (RFC 2045 §6.4 forbids encoding composite types, but a
// base64 message/rfc822 exists in the wild and is then left opaque).
func isIdentityEncoding(enc string) bool {
	switch strings.ToLower(enc) {
	case "", "7bit", "8bit", "binary":
		return true
	}
	return false
}

// encoding returns the Content-Transfer-Encoding value as written, or ""
// when absent.
func (p *part) encoding() string {
	v, _ := p.hdr.get("Content-Transfer-Encoding")
	v = skipCFWS(v)
	tok, _ := cutToken(v)
	return tok
}

// splitMultipart finds the body parts of a multipart body raw[start:end]
// (RFC 2046 §5.1.1). The line break before a delimiter belongs to the
// delimiter. A missing close delimiter ends the last part at end.
func splitMultipart(raw []byte, start, end int, boundary string) [][2]int {
	delim := "--" + boundary
	var parts [][2]int
	partStart := -1 // -1 while in the preamble
	pos := start
	for pos < end {
		i := bytes.Index(raw[pos:end], []byte(delim))
		if i < 0 {
			break
		}
		at := pos + i
		pos = at + len(delim)
		if at > start && raw[at-1] != '\n' {
			continue // not at the start of a line
		}
		closing, lineEnd, ok := delimiterLine(raw, pos, end)
		if !ok {
			continue
		}
		if partStart >= 0 {
			parts = append(parts, [2]int{partStart, contentEnd(raw, partStart, at)})
		}
		if closing {
			return parts
		}
		partStart = lineEnd
		pos = lineEnd
	}
	if partStart >= 0 {
		parts = append(parts, [2]int{partStart, end})
	}
	return parts
}

// delimiterLine checks what follows "--boundary" at raw[pos:]: an optional
// "--" for the close delimiter, then optional white space and the end of
// the line. It returns the offset after the line.
func delimiterLine(raw []byte, pos, end int) (closing bool, lineEnd int, ok bool) {
	if pos+1 < end && raw[pos] == '-' && raw[pos+1] == '-' {
		closing = true
		pos += 2
	}
	for pos < end && (raw[pos] == ' ' || raw[pos] == '\t') {
		pos++
	}
	switch {
	case pos == end:
		return closing, end, true
	case raw[pos] == '\n':
		return closing, pos + 1, true
	case raw[pos] == '\r' && pos+1 < end && raw[pos+1] == '\n':
		return closing, pos + 2, true
	case raw[pos] == '\r' && pos+1 == end:
		return closing, end, true
	}
	return closing, pos, closing // a close delimiter may be followed by junk
}

// contentEnd returns the end of a part whose delimiter starts at at: the
// CRLF (or bare LF) before the delimiter is not part of the content.
func contentEnd(raw []byte, partStart, at int) int {
	e := at
	if e > partStart && raw[e-1] == '\n' {
		e--
		if e > partStart && raw[e-1] == '\r' {
			e--
		}
	}
	return e
}
