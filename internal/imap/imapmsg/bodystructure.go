package imapmsg

import (
	"bytes"
	"strconv"
	"strings"
)

// writeBody writes the BODY (extended=false) or BODYSTRUCTURE
// (extended=true) form of p (RFC 3501 §7.4.2, RFC 9051 §7.5.2). Type and
// subtype are sent as written in the message, like Dovecot does.
func writeBody(b *strings.Builder, raw []byte, p *part, extended bool) {
	b.WriteByte('(')
	if p.kind == kindMultipart {
		// body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
		for _, c := range p.children {
			writeBody(b, raw, c, extended)
		}
		b.WriteByte(' ')
		appendString(b, p.sub)
		if extended {
			b.WriteByte(' ')
			writeParams(b, p.params)
			writeExtension(b, p)
		}
		b.WriteByte(')')
		return
	}

	// body-type-1part: body-fields = params id description encoding size
	appendString(b, p.typ)
	b.WriteByte(' ')
	appendString(b, p.sub)
	b.WriteByte(' ')
	params := p.params
	if len(params) == 0 && strings.EqualFold(p.typ, "text") {
		params = []param{{"charset", "us-ascii"}} // RFC 2045 §5.2 default
	}
	writeParams(b, params)
	b.WriteByte(' ')
	appendNString(b, headerToken(p.hdr, "Content-ID"))
	b.WriteByte(' ')
	appendNString(b, headerText(p.hdr, "Content-Description"))
	b.WriteByte(' ')
	enc := p.encoding()
	if enc == "" {
		enc = "7bit"
	}
	appendString(b, enc)
	b.WriteByte(' ')
	body := raw[p.bodyStart:p.end]
	b.WriteString(strconv.Itoa(len(body)))

	switch {
	case p.kind == kindMessage:
		// body-type-msg adds the envelope, body and line count of the
		// embedded message.
		b.WriteByte(' ')
		writeEnvelope(b, p.msg.hdr)
		b.WriteByte(' ')
		writeBody(b, raw, p.msg, extended)
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(countLines(body)))
	case strings.EqualFold(p.typ, "text"):
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(countLines(body)))
	}

	if extended {
		// body-ext-1part starts with body-fld-md5.
		b.WriteByte(' ')
		appendNString(b, headerToken(p.hdr, "Content-MD5"))
		writeExtension(b, p)
	}
	b.WriteByte(')')
}

// writeExtension writes the extension fields shared by single parts and
// multiparts: disposition, language and location (RFC 3501 §9
// body-ext-1part, RFC 9051 §9 adds body-fld-loc as standard).
func writeExtension(b *strings.Builder, p *part) {
	b.WriteByte(' ')
	if v, ok := p.hdr.get("Content-Disposition"); ok {
		if disp, params := parseDisposition(v); disp != "" {
			b.WriteByte('(')
			appendString(b, disp)
			b.WriteByte(' ')
			writeParams(b, params)
			b.WriteByte(')')
		} else {
			b.WriteString("NIL")
		}
	} else {
		b.WriteString("NIL")
	}

	b.WriteByte(' ')
	var langs []string
	if v, ok := p.hdr.get("Content-Language"); ok {
		for _, l := range strings.Split(v, ",") {
			if tok, _ := cutToken(skipCFWS(l)); tok != "" {
				langs = append(langs, tok)
			}
		}
	}
	if len(langs) == 0 {
		b.WriteString("NIL")
	} else {
		b.WriteByte('(')
		for i, l := range langs {
			if i > 0 {
				b.WriteByte(' ')
			}
			appendString(b, l)
		}
		b.WriteByte(')')
	}

	b.WriteByte(' ')
	appendNString(b, headerText(p.hdr, "Content-Location"))
}

// writeParams writes a body-fld-param list, or NIL when there is none.
func writeParams(b *strings.Builder, params []param) {
	if len(params) == 0 {
		b.WriteString("NIL")
		return
	}
	b.WriteByte('(')
	for i, p := range params {
		if i > 0 {
			b.WriteByte(' ')
		}
		appendString(b, p.name)
		b.WriteByte(' ')
		appendString(b, p.value)
	}
	b.WriteByte(')')
}

// headerText returns the unfolded value of the first field named name.
func headerText(h header, name string) string {
	v, _ := h.get(name)
	return v
}

// headerToken returns a field value with comments and surrounding white
// space removed, for fields such as Content-ID that hold a single item.
func headerToken(h header, name string) string {
	v, ok := h.get(name)
	if !ok || !strings.ContainsRune(v, '(') {
		return v
	}
	var b strings.Builder
	for s := v; s != ""; {
		s = skipCFWS(s)
		i := strings.IndexAny(s, "( \t")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		s = s[i:]
	}
	return b.String()
}

// countLines returns the number of lines in body: the line breaks, plus
// one for a final line without a break (which a MIME part always has, as
// the break before its delimiter belongs to the delimiter).
func countLines(body []byte) int {
	n := bytes.Count(body, []byte{'\n'})
	if len(body) > 0 && body[len(body)-1] != '\n' {
		n++
	}
	return n
}
