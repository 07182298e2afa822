package accept

import (
	"bytes"
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
