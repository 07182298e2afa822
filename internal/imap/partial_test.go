package imap

import (
	"fmt"
	"testing"
)

// TestTranscriptPartial: RETURN (PARTIAL range) pages through SEARCH and
// SORT results, from the start or (negative) from the end, with NIL for
// an empty page; the UID FETCH modifier pages through the messages of a
// UID set (RFC 9394 §3.1, §3.3). PARTIAL with ALL, twice, with "*", 0 or
// mixed signs is BAD.
func TestTranscriptPartial(t *testing.T) {
	env := startServer(t)
	for i := 1; i <= 8; i++ {
		flags := []string{}
		if i%2 == 0 {
			flags = append(flags, `\Flagged`)
		}
		env.appendMessage(t, "alice", "INBOX", fmt.Sprintf("Subject: %c\r\n\r\nm%d\r\n", 'k'-i, i), flags...)
	}
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.send("L2 CAPABILITY\r\n")
	c.expect(`\* CAPABILITY .* PARTIAL( .*)?`, `L2 OK .*`)
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")

	c.cmd("p1 UID SEARCH RETURN (PARTIAL 1:3) ALL", `\* ESEARCH \(TAG "p1"\) UID PARTIAL \(1:3 1:3\)`, `p1 OK UID SEARCH completed`)
	c.cmd("p2 SEARCH RETURN (PARTIAL 3:2 COUNT) FLAGGED", `\* ESEARCH \(TAG "p2"\) PARTIAL \(2:3 4,6\) COUNT 4`, `p2 OK SEARCH completed`)
	c.cmd("p3 SEARCH RETURN (PARTIAL -1:-2) FLAGGED", `\* ESEARCH \(TAG "p3"\) PARTIAL \(-1:-2 6,8\)`, `p3 OK SEARCH completed`)
	c.cmd("p4 SEARCH RETURN (PARTIAL 4:100) FLAGGED", `\* ESEARCH \(TAG "p4"\) PARTIAL \(4:100 8\)`, `p4 OK SEARCH completed`)
	c.cmd("p5 SEARCH RETURN (PARTIAL 5:9) FLAGGED", `\* ESEARCH \(TAG "p5"\) PARTIAL \(5:9 NIL\)`, `p5 OK SEARCH completed`)
	c.cmd("p6 SEARCH RETURN (PARTIAL 1:2) DELETED", `\* ESEARCH \(TAG "p6"\) PARTIAL \(1:2 NIL\)`, `p6 OK SEARCH completed`)
	// SAVE with PARTIAL keeps the page (RFC 9394 §3.2).
	c.cmd("p7 SEARCH RETURN (SAVE PARTIAL 2:3) FLAGGED", `\* ESEARCH \(TAG "p7"\) PARTIAL \(2:3 4,6\)`, `p7 OK SEARCH completed`)
	c.cmd("p8 SEARCH $", `\* SEARCH 4 6`, `p8 OK SEARCH completed`)
	// SORT: the page is in sort order (subjects j, i, ..., c: reverse arrival).
	c.cmd("p9 SORT RETURN (PARTIAL 1:3) (SUBJECT) UTF-8 ALL", `\* ESEARCH \(TAG "p9"\) PARTIAL \(1:3 8,7,6\)`, `p9 OK SORT completed`)
	c.cmd("p10 UID SORT RETURN (PARTIAL -1:-2 MIN) (SUBJECT) UTF-8 ALL", `\* ESEARCH \(TAG "p10"\) UID MIN 8 PARTIAL \(-1:-2 2,1\)`, `p10 OK UID SORT completed`)
	// UID FETCH ... (PARTIAL): the second and third of the messages in 3:*.
	c.cmd("p11 UID FETCH 3:* (FLAGS) (PARTIAL 2:3)", `\* 4 FETCH \(UID 4 FLAGS \(\\Flagged \\Recent\)\)`, `\* 5 FETCH \(UID 5 FLAGS \(\\Recent\)\)`, `p11 OK UID FETCH completed`)
	c.cmd("p12 UID FETCH 1:* (FLAGS) (PARTIAL -1:-1)", `\* 8 FETCH \(UID 8 FLAGS \(\\Flagged \\Recent\)\)`, `p12 OK UID FETCH completed`)
	for i, bad := range []string{
		"SEARCH RETURN (PARTIAL 1:5 ALL) ALL", "SEARCH RETURN (PARTIAL 1:5 PARTIAL 6:9) ALL",
		"SEARCH RETURN (PARTIAL) ALL", "SEARCH RETURN (PARTIAL 0:5) ALL", "SEARCH RETURN (PARTIAL 1:*) ALL",
		"SEARCH RETURN (PARTIAL -1:5) ALL", "SEARCH RETURN (PARTIAL 5) ALL", `SEARCH RETURN (PARTIAL "1:5") ALL`,
		"SEARCH RETURN (PARTIAL 1:4294967296) ALL", "UID FETCH 1:* FLAGS (PARTIAL 1:5 PARTIAL 1:2)",
		"UID FETCH 1:* FLAGS (PARTIAL)", "FETCH 1:* FLAGS (PARTIAL 1:2)", "SORT RETURN (ALL PARTIAL 1:2) (DATE) UTF-8 ALL",
	} {
		tag := fmt.Sprintf("b%d", i)
		c.cmd(tag+" "+bad, tag+` BAD .*`)
	}
}

func TestPartialWindow(t *testing.T) {
	for _, tc := range []struct {
		in, text   string
		n          int
		from, to   int
		wantSyntax bool
	}{
		{in: "1:3", n: 10, from: 0, to: 3},
		{in: "3:1", text: "1:3", n: 10, from: 0, to: 3},
		{in: "9:20", n: 10, from: 8, to: 10},
		{in: "11:20", n: 10, from: 0, to: 0},
		{in: "-1:-3", n: 10, from: 7, to: 10},
		{in: "-3:-1", text: "-1:-3", n: 10, from: 7, to: 10},
		{in: "-9:-20", n: 10, from: 0, to: 2},
		{in: "-11:-20", n: 10, from: 0, to: 0},
		{in: "1:1", n: 0, from: 0, to: 0},
		{in: "0:1", wantSyntax: true},
		{in: "1:-1", wantSyntax: true},
		{in: "1:*", wantSyntax: true},
		{in: "1", wantSyntax: true},
		{in: "1:4294967296", wantSyntax: true},
	} {
		p := &parser{b: []byte(tc.in)}
		r, err := parsePartialRange(p)
		if err == nil && !p.atEnd() {
			err = errSyntax("trailing")
		}
		if tc.wantSyntax {
			if err == nil {
				t.Errorf("%q: no error", tc.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if tc.text == "" {
			tc.text = tc.in
		}
		if from, to := r.window(tc.n); from != tc.from || to != tc.to || r.text != tc.text {
			t.Errorf("%q over %d = [%d,%d) %q, want [%d,%d)", tc.in, tc.n, from, to, r.text, tc.from, tc.to)
		}
	}
}
