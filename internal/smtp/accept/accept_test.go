package accept

import (
	"bytes"
	"strings"
	"testing"
)

func TestNormalizeNewlines(t *testing.T) {
	for in, want := range map[string]string{
		"":                "",
		"a\r\nb\r\n":      "a\r\nb\r\n",
		"a\nb\n":          "a\r\nb\r\n",
		"\n.\n":           "\r\n.\r\n",
		"a\r\r\nb":        "a\r\r\nb",
		"mixed\r\nbare\n": "mixed\r\nbare\r\n",
	} {
		if got := string(NormalizeNewlines([]byte(in))); got != want {
			t.Errorf("NormalizeNewlines(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzNormalizeNewlines(f *testing.F) {
	for _, s := range []string{"", "a\nb", "a\r\nb", "\n\n\r\n\r", "x\r"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := NormalizeNewlines(in)
		if bytes.Count(out, []byte("\n")) != bytes.Count(out, []byte("\r\n")) {
			t.Fatalf("bare LF left in %q", out)
		}
		if !bytes.Equal(bytes.ReplaceAll(out, []byte("\r\n"), []byte("\n")), bytes.ReplaceAll(in, []byte("\r\n"), []byte("\n"))) {
			t.Fatalf("content changed: %q -> %q", in, out)
		}
	})
}

func TestTooManyHops(t *testing.T) {
	hops := func(n int) []byte {
		return []byte(strings.Repeat("Received: from x\r\n\tby y; date\r\n", n) + "Subject: s\r\n\r\n" +
			strings.Repeat("Received: in the body\r\n", 100))
	}
	if tooManyHops(hops(MaxHops)) {
		t.Errorf("%d Received fields refused", MaxHops)
	}
	if !tooManyHops(hops(MaxHops + 1)) {
		t.Errorf("%d Received fields accepted", MaxHops+1)
	}
	if !tooManyHops(bytes.ToLower(hops(MaxHops + 1))) {
		t.Errorf("lower-case received: fields not counted")
	}
}
