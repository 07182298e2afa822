package imapmsg

import (
	"strings"
	"testing"
)

// crlf turns the LF line endings of a test message into CRLF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// Expected outputs below were worked out by hand from RFC 3501 §7.4.2 and
// RFC 9051 §7.5.2; sizes count the raw octets of each body (the line break
// before a boundary belongs to the boundary, RFC 2046 §5.1.1).

func TestEnvelope(t *testing.T) {
	tests := []struct {
		name, msg, want string
	}{
		{"simple", msgSimple, `("Mon, 7 Feb 1994 21:52:25 -0800 (PST)" "afternoon meeting" ` +
			`(("Fred Foobar" NIL "foobar" "Blurdybloop.example")) (("Fred Foobar" NIL "foobar" "Blurdybloop.example")) ` +
			`(("Fred Foobar" NIL "foobar" "Blurdybloop.example")) ((NIL NIL "mooch" "owatagu.siam.edu.example")) ` +
			`NIL NIL NIL "<B27397-0100000@Blurdybloop.example>")`},
		{"alternative", msgAlternative, `("Tue, 2 Jan 2024 10:00:00 +0100" "Lunch" ` +
			`(("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) ` +
			`(("Bob" NIL "bob" "example.net")) NIL NIL NIL "<lunch@example.org>")`},
		// An empty Cc is NIL; a quoted display name loses its quotes.
		{"mixed", msgMixed, `(NIL "Report" (("Reports, Daily" NIL "reports" "example.com")) ` +
			`(("Reports, Daily" NIL "reports" "example.com")) (("Reports, Daily" NIL "reports" "example.com")) ` +
			`((NIL NIL "ops" "example.com")) NIL NIL NIL NIL)`},
		// RFC 5322 Appendix A.1.2/A.1.3/A.5 address forms.
		{"groups", msgGroups, `(NIL "Re: Saying Hello" (("Joe Q. Public" NIL "john.q.public" "example.com")) ` +
			`((NIL "@route1.test,@route2.test" "agent" "relay.test")) (("John Doe" NIL "jdoe" "example.org")) ` +
			`(("Mary Smith" NIL "mary" "x.test")(NIL NIL "jdoe" "example.org")("Who?" NIL "one" "y.test")) ` +
			`((NIL NIL "boss" "nil.test")("Giant; \"Big\" Box" NIL "sysservices" "example.net")) ` +
			`((NIL NIL "A Group" NIL)("Ed Jones" NIL "c" "a.test")(NIL NIL "joe" "where.test")("John" NIL "jdoe" "one.test")(NIL NIL NIL NIL)` +
			`(NIL NIL "Undisclosed recipients" NIL)(NIL NIL NIL NIL)) ` +
			`"<1234@local.machine.example>" NIL)`},
		// Encoded words are sent as written; folding is removed.
		{"encoded", msgEncoded, `(NIL "=?utf-8?B?w6l0w6k=?= and =?iso-8859-1?q?caf=E9?=" ` +
			`(("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=" NIL "keld" "dkuug.dk")) ` +
			`(("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=" NIL "keld" "dkuug.dk")) ` +
			`(("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=" NIL "keld" "dkuug.dk")) ` +
			`(("=?utf-8?q?Andr=C3=A9?= Pirard" NIL "PIRARD" "vm1.ulg.ac.be")) NIL NIL NIL NIL)`},
		{"no header", "\r\nJust a body\r\n", `(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)`},
		// A present but empty Subject is "", and an empty Sender falls back to From.
		{"empty fields", "Subject:\r\nFrom: a@b.example\r\nSender:  \r\n\r\n",
			`(NIL "" ((NIL NIL "a" "b.example")) ((NIL NIL "a" "b.example")) ((NIL NIL "a" "b.example")) NIL NIL NIL NIL NIL)`},
		// Missing parts of an address are filled so the host is never NIL.
		{"broken addresses", "To: foo, <@>, \"unterminated\r\nCc: ;;,:, x@\r\n\r\n",
			`(NIL NIL NIL NIL NIL ((NIL NIL "foo" "MISSING_DOMAIN")(NIL NIL "unterminated" "MISSING_DOMAIN")) ` +
				`((NIL NIL "" NIL)(NIL NIL "x" "MISSING_DOMAIN")(NIL NIL NIL NIL)) NIL NIL NIL)`},
		// 8-bit text is sent as a literal.
		{"utf8 subject", "Subject: Grüße\r\n\r\n", "(NIL {7}\r\nGrüße NIL NIL NIL NIL NIL NIL NIL NIL)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Parse([]byte(tt.msg)).Envelope(); got != tt.want {
				t.Errorf("Envelope:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestBodyStructure(t *testing.T) {
	const plainASCII = `"text" "plain" ("charset" "us-ascii") NIL NIL "7bit"`
	innerEnv := `("Wed, 3 Jan 2024 09:00:00 +0000" "Original" (("Carol" NIL "carol" "example.org")) ` +
		`(("Carol" NIL "carol" "example.org")) (("Carol" NIL "carol" "example.org")) NIL NIL NIL NIL NIL)`
	tests := []struct {
		name, msg, ext, body string
	}{
		{"simple", msgSimple,
			`("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7bit" 55 1 NIL NIL NIL NIL)`,
			`("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7bit" 55 1)`},
		{"alternative", msgAlternative,
			`(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 39 5 NIL NIL NIL NIL)` +
				`("text" "html" ("charset" "utf-8") NIL NIL "7bit" 39 2 NIL NIL NIL NIL) "alternative" ("boundary" "b1_alt") NIL NIL NIL)`,
			`(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 39 5)("text" "html" ("charset" "utf-8") NIL NIL "7bit" 39 2) "alternative")`},
		{"mixed", msgMixed,
			`(("text" "plain" ("charset" "iso-8859-1") NIL NIL "quoted-printable" 23 1 NIL NIL NIL NIL)` +
				`("application" "pdf" ("name" "report.pdf") "<part2@example.com>" "Daily report" "base64" 64 ` +
				`"Q2hlY2sgSW50ZWdyaXR5IQ==" ("attachment" ("filename" "report.pdf" "size" "48")) ("en" "de") "http://example.com/report.pdf")` +
				` "mixed" ("boundary" "MIX") NIL NIL NIL)`,
			`(("text" "plain" ("charset" "iso-8859-1") NIL NIL "quoted-printable" 23 1)` +
				`("application" "pdf" ("name" "report.pdf") "<part2@example.com>" "Daily report" "base64" 64) "mixed")`},
		{"nested rfc822", msgNested,
			`((` + plainASCII + ` 9 1 NIL NIL NIL NIL)("message" "rfc822" NIL NIL NIL "7bit" 268 ` + innerEnv + ` ` +
				`((` + plainASCII + ` 13 1 NIL NIL NIL NIL)("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 20 1 NIL NIL NIL NIL)` +
				` "alternative" ("boundary" "inner") NIL NIL NIL) 14 NIL ("inline" NIL) NIL NIL) "mixed" ("boundary" "outer") NIL NIL NIL)`,
			`((` + plainASCII + ` 9 1)("message" "rfc822" NIL NIL NIL "7bit" 268 ` + innerEnv + ` ` +
				`((` + plainASCII + ` 13 1)("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 20 1) "alternative") 14) "mixed")`},
		// RFC 2046 §5.1.5: parts of a digest default to message/rfc822.
		{"digest", msgDigest,
			`(("message" "rfc822" NIL NIL NIL "7bit" 55 (NIL "one" ((NIL NIL "x" "example.com")) ((NIL NIL "x" "example.com")) ` +
				`((NIL NIL "x" "example.com")) NIL NIL NIL NIL NIL) (` + plainASCII + ` 18 1 NIL NIL NIL NIL) 4 NIL NIL NIL NIL) ` +
				`"digest" ("boundary" "D") NIL NIL NIL)`, ""},
		{"encoded", msgEncoded, `("text" "plain" ("charset" "utf-8") NIL NIL "base64" 26 1 NIL NIL NIL NIL)`, ""},
		{"no header", "\r\nJust a body\r\n", `(` + plainASCII + ` 13 1 NIL NIL NIL NIL)`, `(` + plainASCII + ` 13 1)`},
		{"header only", "Subject: x", `(` + plainASCII + ` 0 0 NIL NIL NIL NIL)`, ""},
		{"empty", "", `(` + plainASCII + ` 0 0 NIL NIL NIL NIL)`, ""},
		// RFC 2045 §5.2: an invalid Content-Type means text/plain.
		{"bad content-type", "Content-Type: garbage\r\n\r\nx", `(` + plainASCII + ` 1 1 NIL NIL NIL NIL)`, ""},
		{"unterminated multipart", crlf("Content-Type: multipart/mixed; boundary=\"zz\"\n\n--zz\nContent-Type: text/plain\n\npart one\n--zz\n" +
			"Content-Type: text/plain\n\npart two, never closed\n"),
			`((` + plainASCII + ` 8 1 NIL NIL NIL NIL)(` + plainASCII + ` 24 1 NIL NIL NIL NIL) "mixed" ("boundary" "zz") NIL NIL NIL)`, ""},
		{"multipart without boundary", "Content-Type: multipart/mixed\r\n\r\n--x\r\nhello\r\n--x--\r\n",
			`(` + plainASCII + ` 19 3 NIL NIL NIL NIL)`, ""},
		{"boundary never found", "Content-Type: multipart/mixed; boundary=nothere\r\n\r\nhello\r\n",
			`((` + plainASCII + ` 0 0 NIL NIL NIL NIL) "mixed" ("boundary" "nothere") NIL NIL NIL)`,
			`((` + plainASCII + ` 0 0) "mixed")`},
		{"bare LF", "From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nfirst\n--b\nContent-Type: text/html\n\n<i>x</i>\n--b--\n",
			`((` + plainASCII + ` 5 1 NIL NIL NIL NIL)("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 8 1 NIL NIL NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL)`, ""},
		// A boundary that is a prefix of the inner one must not split the inner part.
		{"prefix boundary", crlf("Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/alternative; boundary=a1\n\n--a1\n\nx\n--a1--\n--a--\n"),
			`(((` + plainASCII + ` 1 1 NIL NIL NIL NIL) "alternative" ("boundary" "a1") NIL NIL NIL) "mixed" ("boundary" "a") NIL NIL NIL)`, ""},
		// Disposition without parameters, several languages, comments in Content-ID.
		{"extension fields", "Content-Type: image/png\r\nContent-Disposition: INLINE\r\nContent-Language: fr\r\nContent-ID: (c) <i@x>\r\n\r\nAAAA",
			`("image" "png" NIL "<i@x>" NIL "7bit" 4 NIL ("INLINE" NIL) ("fr") NIL)`, `("image" "png" NIL "<i@x>" NIL "7bit" 4)`},
		// RFC 2231 continuations are joined; encoded values stay encoded.
		{"rfc2231", "Content-Type: application/x-stuff;\r\n title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*0*=us-ascii'en'This%20is%20even%20more%20;\r\n" +
			" title*2=\"isn't it!\"; name*0=\"a\"; name*1=b\r\nContent-Disposition: attachment; filename*=UTF-8''%E2%82%AC.txt\r\n\r\n",
			`("application" "x-stuff" ("title*" "us-ascii'en'This%20is%20even%20more%20%2A%2A%2Afun%2A%2A%2A%20isn't it!" "name" "ab") ` +
				`NIL NIL "7bit" 0 NIL ("attachment" ("filename*" "UTF-8''%E2%82%AC.txt")) NIL NIL)`, ""},
		// A base64 message/rfc822 cannot be parsed and stays a basic part.
		{"encoded rfc822", "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA",
			`("message" "rfc822" NIL NIL NIL "base64" 4 NIL NIL NIL NIL)`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Parse([]byte(tt.msg))
			if got := m.BodyStructure(true); got != tt.ext {
				t.Errorf("BodyStructure(true):\n got %s\nwant %s", got, tt.ext)
			}
			if tt.body == "" {
				return
			}
			if got := m.BodyStructure(false); got != tt.body {
				t.Errorf("BodyStructure(false):\n got %s\nwant %s", got, tt.body)
			}
		})
	}
}

// TestConcurrentUse runs the lazy parsing from several goroutines; run
// with -race to check that Message is safe for concurrent use.
func TestConcurrentUse(t *testing.T) {
	m := Parse([]byte(msgNested))
	want := m.BodyStructure(true)
	m = Parse([]byte(msgNested))
	done := make(chan string)
	for range 4 {
		go func() {
			m.Envelope()
			m.HasHeader("Subject", "fwd")
			done <- m.BodyStructure(true)
		}()
	}
	for range 4 {
		if got := <-done; got != want {
			t.Errorf("concurrent BodyStructure = %s, want %s", got, want)
		}
	}
}

// TestDeepNesting checks that nesting beyond maxDepth is cut off into an
// opaque part instead of recursing without bound.
func TestDeepNesting(t *testing.T) {
	raw := strings.Repeat("Content-Type: message/rfc822\r\n\r\n", 500) + "x"
	m := Parse([]byte(raw))
	bs := m.BodyStructure(true)
	if err := checkList(bs); err != nil {
		t.Fatalf("malformed BODYSTRUCTURE: %v", err)
	}
	// Entities at depth 0..maxDepth are message/rfc822; only the first
	// maxDepth are parsed as such, each contributing one envelope.
	if n := strings.Count(bs, `"message" "rfc822"`); n != maxDepth+1 {
		t.Errorf("found %d message/rfc822 parts, want %d", n, maxDepth+1)
	}
	path := make([]int, 300)
	for i := range path {
		path[i] = 1
	}
	if got := m.Section(Section{Part: path}); len(got) != 0 {
		t.Errorf("section below the depth limit = %q, want empty", got)
	}
}
