package imapmsg

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestSearchTextAgreesWithBodyContains: a full-text index built from
// SearchText answers exactly as the scan does, for needles without "\n".
func TestSearchTextAgreesWithBodyContains(t *testing.T) {
	msgs := []string{msgSimple, msgEncoded, msgMixed, msgAlternative, msgNested, ""}
	needles := []string{"meet at 3:30", "afternoon", "message-id: <b27397", "grüsse", "GRÜßE AUS KÖLN",
		"café REPORT", "%PDF", "<p>see you", "multi-part message", "carol@example.org", "ORIGINAL TEXT",
		"Fwd:", "subject: ", "from: ", "zzz"}
	for i, raw := range msgs {
		hdr, body := SearchText([]byte(raw))
		m := Parse([]byte(raw))
		for _, n := range needles {
			folded := Fold(n)
			if got, want := strings.Contains(body, folded), m.BodyContains(n, false); got != want {
				t.Errorf("message %d, BODY %q: SearchText says %v, BodyContains %v", i, n, got, want)
			}
			if got, want := strings.Contains(hdr, folded) || strings.Contains(body, folded), m.BodyContains(n, true); got != want {
				t.Errorf("message %d, TEXT %q: SearchText says %v, BodyContains %v", i, n, got, want)
			}
		}
	}
}

// TestSearchTextBound: text beyond MaxSearchText is not searched by
// either path, and the cut keeps UTF-8 valid.
func TestSearchTextBound(t *testing.T) {
	text := strings.Repeat("é", MaxSearchText/2) + "tail needle"
	raw := "Content-Type: text/plain; charset=utf-8\r\n\r\nx" + text + "\r\n"
	_, body := SearchText([]byte(raw))
	if len(body) > MaxSearchText || !utf8.ValidString(body) {
		t.Fatalf("body text: %d bytes, valid UTF-8 %v; want at most %d, valid", len(body), utf8.ValidString(body), MaxSearchText)
	}
	if Parse([]byte(raw)).BodyContains("tail needle", false) {
		t.Error("BodyContains found text beyond MaxSearchText")
	}
	if !Parse([]byte(raw)).BodyContains("xÉÉ", false) {
		t.Error("BodyContains missed text within MaxSearchText")
	}
}
