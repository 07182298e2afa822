package imapmsg

import "bytes"

// field is one header field, kept as offsets into the raw message so that
// parsing a large mailbox does not copy header text.
type field struct {
	start, end int // raw[start:end] is the whole field, continuation lines and line ending included
	name       []byte
	valStart   int // raw[valStart:end] is the value after the colon, still folded
}

// header is the ordered list of fields of one entity.
type header struct {
	raw    []byte
	fields []field
}

// parseHeader reads header fields from raw[start:end] up to and including
// the blank line that ends the header (RFC 5322 §2.1). It returns the
// offset of the body. Without a blank line the header runs to end. Lines
// that are neither fields nor continuations are kept in the raw bytes but
// not returned as fields; bare LF line endings are accepted.
func parseHeader(raw []byte, start, end int) (header, int) {
	h := header{raw: raw}
	pos := start
	for pos < end {
		lineEnd := end
		if i := bytes.IndexByte(raw[pos:end], '\n'); i >= 0 {
			lineEnd = pos + i + 1
		}
		line := raw[pos:lineEnd]
		if isBlankLine(line) {
			return h, lineEnd
		}
		if (line[0] == ' ' || line[0] == '\t') && len(h.fields) > 0 && h.fields[len(h.fields)-1].end == pos {
			// RFC 5322 §2.2.3: a line starting with WSP continues the field.
			h.fields[len(h.fields)-1].end = lineEnd
		} else if c := bytes.IndexByte(line, ':'); c > 0 {
			name := bytes.TrimRight(line[:c], " \t")
			if len(name) > 0 && bytes.IndexAny(name, " \t") < 0 {
				h.fields = append(h.fields, field{start: pos, end: lineEnd, name: name, valStart: pos + c + 1})
			}
		}
		pos = lineEnd
	}
	return h, end
}

// isBlankLine reports whether line is an empty line, CRLF or bare LF.
func isBlankLine(line []byte) bool {
	return len(line) == 1 && line[0] == '\n' || len(line) == 2 && line[0] == '\r' && line[1] == '\n'
}

// value returns the unfolded value of f: CR and LF removed (RFC 5322
// §2.2.3) and surrounding white space trimmed.
func (h header) value(f field) string {
	v := h.raw[f.valStart:f.end]
	if bytes.IndexAny(v, "\r\n") >= 0 {
		b := make([]byte, 0, len(v))
		for _, c := range v {
			if c != '\r' && c != '\n' {
				b = append(b, c)
			}
		}
		v = b
	}
	return string(bytes.Trim(v, " \t"))
}

// get returns the unfolded value of the first field named name and
// whether it exists. Field names match case-insensitively (RFC 5322 §1.2.2).
func (h header) get(name string) (string, bool) {
	for _, f := range h.fields {
		if asciiEqualFold(f.name, name) {
			return h.value(f), true
		}
	}
	return "", false
}

// asciiEqualFold compares a field name with name ignoring ASCII case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
