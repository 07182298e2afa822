package imapmsg

import (
	"html"
	"regexp"
	"strings"
	"unicode/utf8"
)

// PreviewLength is the most characters Preview returns: RFC 8970 §3.1
// caps a preview at 256; 200 is what a message list shows.
const PreviewLength = 200

// Preview returns the start of the message's text for FETCH PREVIEW
// (RFC 8970): the first inline text/plain part, else the first text/html
// part without markup, transfer- and charset-decoded, with quoted lines
// ("> ...") dropped and white space collapsed, at most PreviewLength
// characters. It is "" when the message has no text. Encapsulated
// messages are not the message's own text and are skipped.
func (m *Message) Preview() string {
	root := m.tree()
	p := findText(root, "plain")
	if p == nil {
		p = findText(root, "html")
	}
	if p == nil {
		return ""
	}
	text := decodeCharset(lookupParam(p.params, "charset"), decodeBody(p.encoding(), m.raw[p.bodyStart:p.end]))
	if strings.EqualFold(p.sub, "html") {
		text = stripHTML(text)
	}
	var words []string
	for line := range strings.Lines(text) {
		if strings.HasPrefix(strings.TrimLeft(line, " \t"), ">") {
			continue
		}
		words = append(words, strings.Fields(line)...)
		if len(words) > PreviewLength { // enough: each word is a character or more
			break
		}
	}
	s := strings.Join(words, " ")
	if utf8.RuneCountInString(s) > PreviewLength {
		s = string([]rune(s)[:PreviewLength])
	}
	return s
}

// findText returns the first text/<sub> leaf under p that is not an
// attachment, depth first.
func findText(p *part, sub string) *part {
	switch p.kind {
	case kindMultipart:
		for _, c := range p.children {
			if t := findText(c, sub); t != nil {
				return t
			}
		}
		return nil
	case kindMessage:
		return nil
	}
	if !strings.EqualFold(p.typ, "text") || !strings.EqualFold(p.sub, sub) {
		return nil
	}
	if d, ok := p.hdr.get("Content-Disposition"); ok {
		if disp, _ := parseDisposition(d); strings.EqualFold(disp, "attachment") {
			return nil
		}
	}
	return p
}

var (
	htmlHidden = regexp.MustCompile(`(?is)<(script|style|head)\b.*?</(script|style|head)\s*>|<!--.*?-->`)
	htmlTag    = regexp.MustCompile(`(?s)<[^>]*>`)
)

// stripHTML reduces HTML to its visible text, roughly: hidden elements
// and tags are removed and entities decoded. A preview needs no more.
func stripHTML(s string) string {
	s = htmlHidden.ReplaceAllString(s, " ")
	s = htmlTag.ReplaceAllString(s, " ")
	return html.UnescapeString(s)
}
