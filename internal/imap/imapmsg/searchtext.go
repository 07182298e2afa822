package imapmsg

import (
	"strings"
	"unicode/utf8"
)

// MaxSearchText bounds the folded text SEARCH looks at per message: at most
// this many bytes of header fields and as many of body text. Text beyond it
// is ignored by the scan (BodyContains) and by the full-text index alike,
// so one huge text part cannot cost megabytes of index or scan time.
const MaxSearchText = 4 << 20

// SearchText returns the text that SEARCH TEXT and BODY match (RFC 3501
// §6.4.4), folded as Fold does: header holds the top-level header fields as
// "Name: value" lines with encoded words decoded; body holds the decoded
// text parts and the headers of encapsulated messages. Pieces are joined by
// "\n", so a needle without "\n" matches the result exactly when
// BodyContains matches. Each result is bounded by MaxSearchText.
func SearchText(raw []byte) (header, body string) {
	root := Parse(raw).tree()
	collect := func(b *strings.Builder) textSink {
		return func(s string) bool {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(s)
			return true
		}
	}
	var h, t strings.Builder
	walkHeader(root.hdr, capped(collect(&h)))
	walkText(raw, root, capped(collect(&t)))
	return h.String(), t.String()
}

// Fold maps s to the canonical case SEARCH compares in, so that a folded
// needle can be matched against SearchText's output byte for byte.
func Fold(s string) string { return fold(s) }

// textSink receives folded pieces of searchable text; returning false
// stops the walk.
type textSink func(piece string) bool

// capped passes at most MaxSearchText bytes to sink in total, cutting the
// piece that crosses the limit at a rune boundary and ending the walk there.
func capped(sink textSink) textSink {
	left := MaxSearchText
	return func(s string) bool {
		if len(s) <= left {
			left -= len(s)
			return sink(s)
		}
		cut := left
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		left = 0
		sink(s[:cut])
		return false
	}
}

// walkHeader passes each field of h to sink as a folded "Name: value" line
// with the value decoded; it reports whether sink let it finish.
func walkHeader(h header, sink textSink) bool {
	for _, f := range h.fields {
		if !sink(fold(string(f.name) + ": " + decodeHeaderValue(h.value(f)))) {
			return false
		}
	}
	return true
}

// walkText passes the folded decoded text of p to sink, one piece per text
// part, after undoing the transfer encoding and charset; encapsulated
// messages contribute their header fields as well, since they are text of
// the outer body. Other media types are skipped. It reports whether sink
// let it finish.
func walkText(raw []byte, p *part, sink textSink) bool {
	switch p.kind {
	case kindMultipart:
		for _, c := range p.children {
			if !walkText(raw, c, sink) {
				return false
			}
		}
		return true
	case kindMessage:
		return walkHeader(p.msg.hdr, sink) && walkText(raw, p.msg, sink)
	}
	if !strings.EqualFold(p.typ, "text") {
		return true
	}
	body := decodeBody(p.encoding(), raw[p.bodyStart:p.end])
	return sink(fold(decodeCharset(lookupParam(p.params, "charset"), body)))
}
