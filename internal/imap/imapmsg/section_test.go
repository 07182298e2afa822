package imapmsg

import (
	"testing"
)

func TestSection(t *testing.T) {
	innerHeader := crlf("From: Carol <carol@example.org>\nSubject: Original\nDate: Wed, 3 Jan 2024 09:00:00 +0000\n" +
		"Content-Type: multipart/alternative; boundary=\"inner\"\n\n")
	innerText := crlf("--inner\nContent-Type: text/plain\n\noriginal text\n--inner\nContent-Type: text/html\n\n<p>original text</p>\n--inner--\n")
	bareLF := "From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nfirst\n--b\nContent-Type: text/html\n\n<i>x</i>\n--b--\n"
	rfc822Top := "Subject: outer\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n"
	tests := []struct {
		msg, spec, want string
	}{
		{msgSimple, "", msgSimple},
		{msgSimple, "HEADER", msgSimple[:len(msgSimple)-55]},
		{msgSimple, "TEXT", "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n"},
		// RFC 3501 §6.4.5: the body of a non-multipart message is part 1.
		{msgSimple, "1", "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n"},
		{msgSimple, "2", ""},
		{msgSimple, "1.1", ""},
		{msgSimple, "1.HEADER", ""},
		{msgSimple, "HEADER.FIELDS (SUBJECT to)", "Subject: afternoon meeting\r\nTo: mooch@owatagu.siam.edu.example\r\n\r\n"},
		{msgSimple, "HEADER.FIELDS (X-Nothing)", "\r\n"},
		{msgSimple, "HEADER.FIELDS.NOT (Date From Subject To Message-Id)", "MIME-Version: 1.0\r\nContent-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\n"},
		// Folded fields are returned with their continuation lines.
		{msgAlternative, "HEADER.FIELDS (content-type)", "Content-Type: multipart/alternative;\r\n\tboundary=\"b1_alt\"\r\n\r\n"},
		{msgAlternative, "1", "Hi Bob,\r\n\r\nSee you at noon.\r\n-- \r\nAlice"},
		{msgAlternative, "2", "<p>Hi Bob,</p>\r\n<p>See you at noon.</p>"},
		{msgAlternative, "2.MIME", "Content-Type: text/html; charset=utf-8\r\n\r\n"},
		{msgAlternative, "3", ""},
		{msgAlternative, "1.TEXT", ""},
		{msgMixed, "2", "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K"},
		{msgNested, "1", "see below"},
		{msgNested, "2", innerHeader + innerText},
		{msgNested, "2.MIME", "Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n"},
		{msgNested, "2.HEADER", innerHeader},
		{msgNested, "2.TEXT", innerText},
		{msgNested, "2.HEADER.FIELDS (from)", "From: Carol <carol@example.org>\r\n\r\n"},
		{msgNested, "2.1", "original text"},
		{msgNested, "2.2", "<p>original text</p>"},
		{msgNested, "2.1.MIME", "Content-Type: text/plain\r\n\r\n"},
		{msgNested, "2.3", ""},
		{msgNested, "2.1.1", ""},
		{msgNested, "HEADER.FIELDS.NOT (From To Content-Type)", "Subject: Fwd: Original\r\n\r\n"},
		// A top-level message/rfc822: part 1 is the embedded message.
		{rfc822Top, "1", "Subject: inner\r\n\r\ninner body\r\n"},
		{rfc822Top, "1.HEADER", "Subject: inner\r\n\r\n"},
		{rfc822Top, "1.TEXT", "inner body\r\n"},
		{rfc822Top, "1.1", "inner body\r\n"},
		{msgDigest, "1.TEXT", "first digest entry"},
		{msgDigest, "1.MIME", "\r\n"},
		{bareLF, "HEADER", "From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n"},
		{bareLF, "HEADER.FIELDS (From)", "From: a@example.com\n\r\n"},
		{bareLF, "1", "first"},
		{bareLF, "1.MIME", "\n"},
		{bareLF, "2", "<i>x</i>"},
		{"Content-Type: multipart/mixed; boundary=nothere\r\n\r\nhello\r\n", "1", ""},
		{"Subject: cut", "HEADER.FIELDS (subject)", "Subject: cut\r\n\r\n"},
		{"Subject: cut", "TEXT", ""},
	}
	for _, tt := range tests {
		s, err := ParseSection(tt.spec)
		if err != nil {
			t.Fatalf("ParseSection(%q): %v", tt.spec, err)
		}
		if got := string(Parse([]byte(tt.msg)).Section(s)); got != tt.want {
			t.Errorf("Section %q of\n%s\n got %q\nwant %q", tt.spec, tt.msg, got, tt.want)
		}
	}
}

func TestPartial(t *testing.T) {
	b := []byte("0123456789")
	tests := []struct {
		origin, count uint32
		want          string
	}{
		{0, 4, "0123"}, {8, 4, "89"}, {10, 1, ""}, {99, 1, ""}, {3, 0, ""}, {0, 1 << 31, "0123456789"},
	}
	for _, tt := range tests {
		if got := string(Partial(b, tt.origin, tt.count)); got != tt.want {
			t.Errorf("Partial(%d, %d) = %q, want %q", tt.origin, tt.count, got, tt.want)
		}
	}
}
