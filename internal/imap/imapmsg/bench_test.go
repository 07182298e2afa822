package imapmsg

import (
	"fmt"
	"strings"
	"testing"
)

// benchMessage builds a multipart/mixed message of about 10 KB: a text
// part, an HTML alternative and a base64 attachment.
func benchMessage() []byte {
	var b strings.Builder
	b.WriteString("From: Alice <alice@example.org>\r\nTo: Bob <bob@example.net>, carol@example.com\r\n" +
		"Subject: Quarterly numbers\r\nDate: Tue, 2 Jan 2024 10:00:00 +0100\r\nMessage-ID: <q@example.org>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n" +
		"--outer\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "Line %d of the plain text body, long enough to look real.\r\n", i)
	}
	b.WriteString("--alt\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "<p>Line %d of the HTML body, long enough to look real.</p>\r\n", i)
	}
	b.WriteString("--alt--\r\n--outer\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\n" +
		"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"data.bin\"\r\n\r\n")
	for b.Len() < 10*1024 {
		b.WriteString("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n")
	}
	b.WriteString("--outer--\r\n")
	return []byte(b.String())
}

// BenchmarkParseBodyStructure measures what a FETCH BODYSTRUCTURE costs
// per message: parsing the MIME tree and writing the extended form.
func BenchmarkParseBodyStructure(b *testing.B) {
	raw := benchMessage()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		Parse(raw).BodyStructure(true)
	}
}

// BenchmarkEnvelope measures FETCH ENVELOPE, which parses only the header.
func BenchmarkEnvelope(b *testing.B) {
	raw := benchMessage()
	b.ReportAllocs()
	for b.Loop() {
		Parse(raw).Envelope()
	}
}
