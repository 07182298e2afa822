package imapmsg

import "testing"

func TestFirstMailbox(t *testing.T) {
	for _, tc := range []struct{ hdr, want string }{
		{"From: Alice <alice@example.org>, bob@example.org", "alice"},
		{"From: friends: Zed <zed@example.org>;, carol@example.org", "zed"},
		{"From: =?utf-8?q?J=C3=B6rg?= <joerg@example.org>", "joerg"},
		{"From: undisclosed-recipients:;", ""},
		{"Subject: no from", ""},
	} {
		m := Parse([]byte(tc.hdr + "\r\n\r\nbody\r\n"))
		if got := m.FirstMailbox("From"); got != tc.want {
			t.Errorf("%q: FirstMailbox = %q, want %q", tc.hdr, got, tc.want)
		}
	}
}
