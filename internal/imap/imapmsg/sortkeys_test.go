package imapmsg

import "testing"

func TestFirstMailbox(t *testing.T) {
	for _, tc := range []struct{ hdr, want string }{
		{"From: Alice <alice@example.org>, bob@example.org", "alice"},
		// RFC 5256 §3: the addr-mailbox of the first ENVELOPE address,
		// which for a group is its start marker, holding the group name.
		{"From: friends: Zed <zed@example.org>;, carol@example.org", "friends"},
		{"From: =?utf-8?q?J=C3=B6rg?= <joerg@example.org>", "joerg"},
		{"From: undisclosed-recipients:;", "undisclosed-recipients"},
		{"From: (only a comment)", ""},
		{"Subject: no from", ""},
	} {
		m := Parse([]byte(tc.hdr + "\r\n\r\nbody\r\n"))
		if got := m.FirstMailbox("From"); got != tc.want {
			t.Errorf("%q: FirstMailbox = %q, want %q", tc.hdr, got, tc.want)
		}
	}
}

// TestDisplayName: the DISPLAYFROM/DISPLAYTO key (RFC 5957 §3).
func TestDisplayName(t *testing.T) {
	for _, tc := range []struct{ hdr, want string }{
		{"From: Alice <alice@example.org>, bob@example.org", "Alice"},
		{"From: =?utf-8?q?J=C3=B6rg?= <joerg@example.org>", "Jörg"},
		{"From: bob@example.org (Bob Old)", "Bob Old"},
		{"From: <carol@example.org>", "carol@example.org"},
		{`From: "" <dave@example.org>`, "dave@example.org"},
		{"From: team: a@b.example;", "team"},
		{"Subject: no from", ""},
	} {
		m := Parse([]byte(tc.hdr + "\r\n\r\nbody\r\n"))
		if got := m.DisplayName("From"); got != tc.want {
			t.Errorf("%q: DisplayName = %q, want %q", tc.hdr, got, tc.want)
		}
	}
}
