package imap

import (
	"bufio"
	"compress/flate"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
)

// deflateConn is the client side of RFC 4978: raw deflate both ways,
// sync-flushed after each write.
type deflateConn struct {
	net.Conn
	r io.Reader
	w *flate.Writer
}

func (c *deflateConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *deflateConn) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil {
		return n, err
	}
	return n, c.w.Flush()
}

// deflate switches the transcript client to compression, as a client does
// right after the tagged OK to COMPRESS.
func (c *tconn) deflate() *tconn {
	fw, err := flate.NewWriter(c.c, flate.DefaultCompression)
	if err != nil {
		c.t.Fatal(err)
	}
	dc := &deflateConn{Conn: c.c, r: flate.NewReader(c.br), w: fw}
	return &tconn{t: c.t, c: dc, br: bufio.NewReader(dc)}
}

func TestTranscriptCompress(t *testing.T) {
	env := startServer(t)
	big := "Subject: big\r\n\r\n" + strings.Repeat("All work and no play makes Jack a dull boy.\r\n", 3000)
	env.appendMessage(t, "alice", "INBOX", big)
	raw := dialRaw(t, env.addr)
	raw.cmd("a1 COMPRESS DEFLATE", `a1 BAD Command not allowed in this state`)
	raw.cmd("a2 CAPABILITY", noCompressCap, `a2 OK .*`) // no COMPRESS before login
	raw.login("alice")
	raw.cmd("a3 CAPABILITY", `\* CAPABILITY .* COMPRESS=DEFLATE.*`, `a3 OK .*`)
	raw.cmd("a4 COMPRESS GZIP", `a4 BAD .*`)
	raw.cmd("a5 COMPRESS DEFLATE", `a5 OK DEFLATE active`)
	c := raw.deflate()

	c.cmd("b1 NOOP", `b1 OK NOOP completed`)
	c.cmd("b2 COMPRESS DEFLATE", `b2 NO \[COMPRESSIONACTIVE\] .*`)
	c.cmd("b3 CAPABILITY", noCompressCap, `b3 OK .*`)
	// A synchronizing literal: the continuation must arrive compressed.
	c.send(fmt.Sprintf("b4 APPEND INBOX {%d}\r\n", len(testMsg)))
	c.expect(`\+ Ready for literal data`)
	c.cmd(testMsg, `b4 OK \[APPENDUID \d+ 2\] APPEND completed`)
	c.send("b5 SELECT INBOX\r\n")
	c.readUntilTagged("b5")
	// A response larger than the server's buffer above the compressor.
	c.send("b6 FETCH 1 BODY.PEEK[]\r\n")
	c.expect(fmt.Sprintf(`\* 1 FETCH \(BODY\[\] \{%d\}`, len(big)))
	got := make([]byte, len(big))
	if _, err := io.ReadFull(c.br, got); err != nil || string(got) != big {
		t.Fatalf("big body: %v, equal %v", err, string(got) == big)
	}
	c.expect(`\)`, `b6 OK FETCH completed`)
	c.cmd("b7 SORT (SUBJECT) UTF-8 ALL", `\* SORT 1 2`, `b7 OK SORT completed`)
	c.cmd("b8 IDLE", `\+ idling`)
	c.cmd("DONE", `b8 OK IDLE terminated`)
	c.cmd("b9 LOGOUT", `\* BYE .*`, `b9 OK .*`)
}

// TestCompressOverTLS layers deflate above TLS, as RFC 4978 §4 requires
// (compression first, then encryption, on the way out).
func TestCompressOverTLS(t *testing.T) {
	env := startServer(t, func(o *Options) { o.TLSConfig = selfSignedTLS(t) })
	raw := dialRaw(t, env.addr)
	raw.cmd("a STARTTLS", `a OK .*`)
	tc := tls.Client(raw.c, &tls.Config{InsecureSkipVerify: true})
	sec := &tconn{t: t, c: tc, br: bufio.NewReader(tc)}
	sec.login("alice")
	sec.cmd("b COMPRESS DEFLATE", `b OK DEFLATE active`)
	c := sec.deflate()
	c.send("c1 SELECT INBOX\r\n")
	if lines := c.readUntilTagged("c1"); lines[len(lines)-1] != "c1 OK [READ-WRITE] SELECT completed" {
		t.Fatalf("SELECT: %q", lines)
	}
	c.cmd("c2 THREAD REFERENCES UTF-8 ALL", `\* THREAD`, `c2 OK THREAD completed`)
	c.cmd("c3 LOGOUT", `\* BYE .*`, `c3 OK .*`)
}

// noCompressCap matches a CAPABILITY line without COMPRESS=DEFLATE (Go
// regexps have no negative lookahead).
const noCompressCap = `\* CAPABILITY (?:[^C]|C[^O]|CO[^M])*`

// TestCompressCanBeTurnedOff: Options.NoCompress withdraws the capability.
func TestCompressCanBeTurnedOff(t *testing.T) {
	env := startServer(t, func(o *Options) { o.NoCompress = true })
	raw := dialRaw(t, env.addr)
	raw.login("alice")
	raw.cmd("c CAPABILITY", noCompressCap, `c OK .*`)
}
