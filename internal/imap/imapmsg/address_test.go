package imapmsg

import (
	"strings"
	"testing"
)

func TestAddressList(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "NIL"},
		{"  ", "NIL"},
		{"a@b.example", `((NIL NIL "a" "b.example"))`},
		{"<a@b.example>", `((NIL NIL "a" "b.example"))`},
		{"Name <a@b.example>", `(("Name" NIL "a" "b.example"))`},
		// RFC 5322 §3.4: the old comment form names the mailbox.
		{"a@b.example (Real Name)", `(("Real Name" NIL "a" "b.example"))`},
		{"(Real Name) a@b.example", `(("Real Name" NIL "a" "b.example"))`},
		{"Name (comment) <a@b.example>", `(("Name" NIL "a" "b.example"))`},
		{`"quoted \"name\"" <a@b.example>`, `(("quoted \"name\"" NIL "a" "b.example"))`},
		{`"john doe"@b.example`, `((NIL NIL "\"john doe\"" "b.example"))`},
		{"a@[192.0.2.1]", `((NIL NIL "a" "[192.0.2.1]"))`},
		{"a@b.example c@d.example", `((NIL NIL "a" "b.example")(NIL NIL "c" "d.example"))`},
		{"a@b.example,,,c@d.example,", `((NIL NIL "a" "b.example")(NIL NIL "c" "d.example"))`},
		{"Joe Q. Public <joe@x.example>", `(("Joe Q. Public" NIL "joe" "x.example"))`},
		{"empty:;", `((NIL NIL "empty" NIL)(NIL NIL NIL NIL))`},
		{"unclosed: a@b.example", `((NIL NIL "unclosed" NIL)(NIL NIL "a" "b.example")(NIL NIL NIL NIL))`},
		{"<a@b.example", `((NIL NIL "a" "b.example"))`},
		{"Name <a@b.example> trailing junk, c@d.example", `(("Name" NIL "a" "b.example")(NIL NIL "trailing junk" "MISSING_DOMAIN")(NIL NIL "c" "d.example"))`},
		// Groups are start and end markers (RFC 3501 §7.4.2); a comment
		// alone in a group or list is white space, not an address.
		{"group:;, group2: (foo) ;", `((NIL NIL "group" NIL)(NIL NIL NIL NIL)(NIL NIL "group2" NIL)(NIL NIL NIL NIL))`},
		{"(only a comment)", "NIL"},
		{"a@b.example, (stray), c@d.example", `((NIL NIL "a" "b.example")(NIL NIL "c" "d.example"))`},
		{"group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;",
			`((NIL NIL "group" NIL)(NIL NIL "g1" "d1.org")(NIL NIL "g2" "d2.org")(NIL NIL NIL NIL)(NIL NIL "group2" NIL)(NIL NIL "g3" "d3.org")(NIL NIL NIL NIL))`},
		// A comment beside an addr-spec still names it, as in "a@b (Name)".
		{"(c) group (c) : (c) a (c) @ (c) b.example (c) ; (c)", `((NIL NIL "group" NIL)("c" NIL "a" "b.example")(NIL NIL NIL NIL))`},
		// CFWS anywhere inside an addr-spec (RFC 5322 §3.4.1).
		{"<user-from (comment)@ (comment) domain.org>", `((NIL NIL "user-from" "domain.org"))`},
		{"user (c) . name (c) @ (c) sub . example . org", `(("c" NIL "user.name" "sub.example.org"))`},
		// RFC 5322 §4.4 obs-route, the adl of the IMAP address.
		{"<@route:user@domain>", `((NIL "@route" "user" "domain"))`},
		{"Name <@r1,@r2:user@domain>", `(("Name" "@r1,@r2" "user" "domain"))`},
		// 8-bit names go out as literals.
		{"Jörg <j@x.example>", "(({5}\r\nJörg NIL \"j\" \"x.example\"))"},
	}
	for _, tt := range tests {
		var b strings.Builder
		writeAddressList(&b, parseAddressList(tt.in))
		if got := b.String(); got != tt.want {
			t.Errorf("parseAddressList(%q):\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}
