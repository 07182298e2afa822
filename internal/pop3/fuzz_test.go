package pop3

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// FuzzParseCommand: any line parses or fails without panicking; a parsed
// keyword is 3-4 upper-case letters and the argument carries no controls.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"USER alice", "PASS a b  c ", "RETR 1", "TOP 1 10", "AUTH PLAIN AGEAYg==",
		"capa", "", " ", "LIST  1", "\x00", "STAT\t", "UIDL 999999999999", "QUIT ", "ÜSER x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		cmd, err := parseCommand(line)
		if err != nil {
			return
		}
		if len(cmd.name) < 3 || len(cmd.name) > 4 || strings.ToUpper(cmd.name) != cmd.name {
			t.Fatalf("keyword %q from %q", cmd.name, line)
		}
		if strings.ContainsAny(cmd.arg, "\x00\r\n") {
			t.Fatalf("argument %q carries controls", cmd.arg)
		}
		for _, a := range fields(cmd.arg) {
			if n, ok := parseNumber(a); ok && n < 0 {
				t.Fatalf("negative number %d from %q", n, a)
			}
		}
	})
}

// FuzzWriteMessage: the multi-line encoding of any message un-stuffs back
// to the message (plus a final CRLF if it lacked one), has no premature
// "." line, and ends with ".\r\n" (RFC 1939 §3).
func FuzzWriteMessage(f *testing.F) {
	for _, s := range []string{testMsg, "", ".", "..\r\n", "a\r\n.\r\nb", "x\r\n\r\n.y\r\n", "no newline", "\r\n\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		if bytes.ContainsRune(msg, '\n') && bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\n")) {
			return // bare LF: the store holds CRLF messages only
		}
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		n, err := writeMessage(w, bytes.NewReader(msg), -1)
		if err != nil {
			t.Fatal(err)
		}
		w.Flush()
		if int(n) != out.Len() {
			t.Fatalf("reported %d octets, wrote %d", n, out.Len())
		}
		enc := out.String()
		if !strings.HasSuffix(enc, ".\r\n") {
			t.Fatalf("no terminator: %q", enc)
		}
		lines := strings.SplitAfter(strings.TrimSuffix(enc, ".\r\n"), "\r\n")
		var got strings.Builder
		for _, l := range lines {
			if l == ".\r\n" {
				t.Fatalf("premature end line in %q", enc)
			}
			got.WriteString(strings.TrimPrefix(l, "."))
		}
		want := string(msg)
		if want != "" && !strings.HasSuffix(want, "\r\n") {
			want += "\r\n"
		}
		if got.String() != want {
			t.Fatalf("un-stuffed %q, want %q", got.String(), want)
		}
	})
}
