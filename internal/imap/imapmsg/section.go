package imapmsg

import (
	"bytes"
)

// section returns the bytes of s within the message rooted at root
// (RFC 3501 §6.4.5). It returns nil for a part that does not exist.
func section(raw []byte, root *part, s Section) []byte {
	p, atMessage := resolvePart(root, s.Part)
	if p == nil {
		return nil
	}
	if !atMessage {
		switch s.Spec {
		case SpecAll:
			return raw[p.bodyStart:p.end]
		case SpecMIME:
			return raw[p.start:p.bodyStart]
		}
		// HEADER and TEXT of a part refer to an encapsulated message.
		if p.kind != kindMessage {
			return nil
		}
		p = p.msg
	}
	switch s.Spec {
	case SpecAll:
		return raw[p.start:p.end]
	case SpecHeader:
		return raw[p.start:p.bodyStart]
	case SpecText:
		return raw[p.bodyStart:p.end]
	case SpecHeaderFields:
		return headerSubset(p.hdr, s.Fields, true)
	case SpecHeaderFieldsNot:
		return headerSubset(p.hdr, s.Fields, false)
	}
	return nil // MIME of the whole message is not defined
}

// resolvePart walks a part path. atMessage is true for the empty path,
// where the message itself is meant rather than a body part.
//
// RFC 3501 §6.4.5: every message has at least part 1; the body of a
// non-multipart message is part 1, and the parts of an encapsulated
// message/rfc822 are numbered below the part that contains it.
func resolvePart(root *part, path []int) (p *part, atMessage bool) {
	p, atMessage = root, true
	for _, n := range path {
		if !atMessage && p.kind == kindMessage {
			p, atMessage = p.msg, true
		}
		switch {
		case p.kind == kindMultipart:
			if n < 1 || n > len(p.children) {
				return nil, false
			}
			p = p.children[n-1]
		case atMessage && n == 1:
			// The single body of a non-multipart message.
		default:
			return nil, false
		}
		atMessage = false
	}
	return p, atMessage
}

// headerSubset returns the fields of h whose names are (include=true) or
// are not (include=false) among names, followed by the blank line.
func headerSubset(h header, names []string, include bool) []byte {
	var out []byte
	for _, f := range h.fields {
		match := false
		for _, n := range names {
			if asciiEqualFold(f.name, n) {
				match = true
				break
			}
		}
		if match != include {
			continue
		}
		out = append(out, h.raw[f.start:f.end]...)
		if !bytes.HasSuffix(out, []byte{'\n'}) {
			out = append(out, "\r\n"...) // last field of a header cut short
		}
	}
	return append(out, "\r\n"...)
}

// Partial returns the <origin.count> substring of a section's bytes for
// BODY[...]<origin.count> (RFC 3501 §6.4.5): empty when origin is past the
// end, truncated when fewer than count octets remain.
func Partial(b []byte, origin, count uint32) []byte {
	if uint64(origin) >= uint64(len(b)) {
		return nil
	}
	b = b[origin:]
	if uint64(count) < uint64(len(b)) {
		b = b[:count]
	}
	return b
}
