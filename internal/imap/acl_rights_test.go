package imap

import "testing"

func TestParseRights(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"", "", true},
		{"rl", "lr", true},
		{"lrswipkxtea", "lrswipkxtea", true},
		{"aetxkpiwsrl", "lrswipkxtea", true},
		{"llrr", "lr", true},
		{"c", "kx", true}, // RFC 4314 §2.1.1: "create" is k and x here
		{"d", "te", true}, // and "delete" is t and e
		{"lz", "", false},
		{"L", "", false},
		{"+l", "", false}, // modifiers are SETACL's, not part of a right set
	} {
		got, ok := parseRights(tc.in)
		if ok != tc.ok || ok && got.String() != tc.want {
			t.Errorf("parseRights(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestAllowedFlags(t *testing.T) {
	r, _ := parseRights("lrs")
	got := r.allowedFlags([]string{`\Seen`, `\Deleted`, `\Flagged`, "$Work"})
	if len(got) != 1 || got[0] != `\Seen` {
		t.Errorf("lrs may change %q, want only \\Seen", got)
	}
	r, _ = parseRights("wt")
	got = r.allowedFlags([]string{`\Seen`, `\Deleted`, `\Flagged`, "$Work"})
	if len(got) != 3 || got[0] != `\Deleted` {
		t.Errorf("wt may change %q, want \\Deleted \\Flagged $Work", got)
	}
}
