package accept

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

func TestCheckRcpt(t *testing.T) {
	for _, tc := range []struct {
		addr string
		utf8 bool
		want string // "" or "code x.y.z"
	}{
		{"alice@example.test", false, ""},
		{"Postmaster", false, ""},
		{"a.b+tag@[192.0.2.1]", false, ""},
		{"o'brien@example.test", false, ""},
		{strings.Repeat("a", 64) + "@example.test", false, ""},
		{strings.Repeat("a", 65) + "@example.test", false, "501 5.1.3"},
		{"a@" + strings.Repeat("d", 256), false, "501 5.1.3"},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("d", 190), false, "501 5.1.3"}, // path 257
		{strings.Repeat("a", 64) + "@" + strings.Repeat("d", 189), false, ""},          // path 256
		{"john doe@example.test", false, "553 5.1.3"},
		{"x@y@example.test", false, "553 5.1.3"},
		{`a"b@example.test`, false, "553 5.1.3"},
		{"alice@exa_mple.test", false, "553 5.1.3"},
		{"jörg@example.test", false, "553 5.6.7"},
		{"jörg@example.test", true, ""},
		{"joe@bücher.test", true, ""},
		{"j\xffrg@example.test", true, "553 5.1.3"},
		{"j\xffrg@example.test", false, "553 5.1.3"},
	} {
		got := ""
		var se *smtp.SMTPError
		if err := CheckRcpt(tc.addr, tc.utf8); errors.As(err, &se) {
			got = fmt.Sprintf("%d %d.%d.%d", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
		}
		if got != tc.want {
			t.Errorf("CheckRcpt(%q, utf8=%v) = %q, want %q", tc.addr, tc.utf8, got, tc.want)
		}
	}
}

// FuzzCheckRcpt: whatever the input, an accepted address is within the
// RFC 5321 limits, valid UTF-8, and ASCII unless SMTPUTF8 was given.
func FuzzCheckRcpt(f *testing.F) {
	for _, s := range []string{"a@b.test", "Postmaster", `"a b"@c.test`, "jörg@x.test", "a@[1.2.3.4]", "x\xff@y"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, addr string, utf8 bool) {
		if CheckRcpt(addr, utf8) != nil || strings.EqualFold(addr, "postmaster") {
			return
		}
		at := strings.LastIndexByte(addr, '@')
		if at < 1 || at > maxLocalPart || len(addr)+2 > maxPath || !isDotString(addr[:at]) {
			t.Fatalf("accepted %q", addr)
		}
		if !utf8 && !isASCII(addr) {
			t.Fatalf("accepted non-ASCII %q without SMTPUTF8", addr)
		}
	})
}
