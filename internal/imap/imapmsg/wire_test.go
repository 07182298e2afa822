package imapmsg

import "testing"

func TestQuote(t *testing.T) {
	tests := []struct{ in, quote, nstring string }{
		{"", `""`, "NIL"},
		{"hello world", `"hello world"`, `"hello world"`},
		{`a "b" \c`, `"a \"b\" \\c"`, `"a \"b\" \\c"`},
		{"two\r\nlines", "{10}\r\ntwo\r\nlines", "{10}\r\ntwo\r\nlines"},
		{"naïve", "{6}\r\nnaïve", "{6}\r\nnaïve"},
		{"nul\x00byte", `"nulbyte"`, `"nulbyte"`},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.quote {
			t.Errorf("Quote(%q) = %q, want %q", tt.in, got, tt.quote)
		}
		if got := NString(tt.in); got != tt.nstring {
			t.Errorf("NString(%q) = %q, want %q", tt.in, got, tt.nstring)
		}
	}
}
