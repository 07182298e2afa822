package imapmsg

import (
	"strings"
	"testing"
)

func TestPreview(t *testing.T) {
	long := strings.Repeat("word ", 100)
	for _, tc := range []struct{ name, msg, want string }{
		{"plain", "Subject: x\r\n\r\nHello   there,\r\n\r\n> quoted reply\r\nsee you\r\n", "Hello there, see you"},
		{"qp latin1", "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe\r\n", "Grüße"},
		{"html only", "Content-Type: text/html\r\n\r\n<html><head><title>t</title></head><body><p>Caf&eacute; <b>open</b></p><script>x()</script></body></html>\r\n", "Café open"},
		{"alternative prefers plain", "Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain text\r\n--b--\r\n", "plain text"},
		{"attachment skipped", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment\r\n\r\nfile\r\n--b--\r\n", ""},
		{"no text", "Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n", ""},
		{"truncated", "Subject: x\r\n\r\n" + long + "\r\n", strings.TrimSpace(long)[:PreviewLength]},
	} {
		if got := Parse([]byte(tc.msg)).Preview(); got != tc.want {
			t.Errorf("%s: Preview = %q, want %q", tc.name, got, tc.want)
		}
	}
}
