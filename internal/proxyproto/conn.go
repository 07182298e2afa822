package proxyproto

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"time"
)

// conn is an accepted connection whose PROXY header has been consumed.
// rest holds the bytes that arrived after the header in the same reads;
// they are returned by Read before anything else.
type conn struct {
	net.Conn
	rest          []byte
	remote, local net.Addr
}

func (c *conn) Read(p []byte) (int, error) {
	if len(c.rest) > 0 {
		n := copy(p, c.rest)
		c.rest = c.rest[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

func (c *conn) RemoteAddr() net.Addr {
	if c.remote != nil {
		return c.remote
	}
	return c.Conn.RemoteAddr()
}

func (c *conn) LocalAddr() net.Addr {
	if c.local != nil {
		return c.local
	}
	return c.Conn.LocalAddr()
}

// readHeader reads from c until a complete header is parsed, the bytes
// cannot be a header, maxHeaderLen bytes are buffered, or deadline passes.
func readHeader(c net.Conn, deadline time.Time) (*conn, error) {
	if err := c.SetReadDeadline(deadline); err != nil {
		return nil, fmt.Errorf("set header deadline: %w", err)
	}
	buf := make([]byte, 0, maxHeaderLen)
	for {
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		h, hlen, perr := parseHeader(buf)
		switch {
		case perr == nil:
			if err := c.SetReadDeadline(time.Time{}); err != nil {
				return nil, fmt.Errorf("clear header deadline: %w", err)
			}
			// Copy the leftover so the 4 KiB read buffer is not kept for the conn's life.
			pc := &conn{Conn: c, rest: bytes.Clone(buf[hlen:])}
			if !h.Local {
				pc.remote = net.TCPAddrFromAddrPort(h.Src)
				pc.local = net.TCPAddrFromAddrPort(h.Dst)
			}
			return pc, nil
		case !errors.Is(perr, errIncomplete):
			return nil, perr
		case err != nil:
			return nil, fmt.Errorf("read proxy header after %d bytes: %w", len(buf), err)
		case len(buf) == cap(buf):
			// Unreachable with the parsers' own bounds, kept so a parser bug
			// cannot turn into a zero-length read loop.
			return nil, fmt.Errorf("proxy header longer than %d bytes", maxHeaderLen)
		}
	}
}

// NetConn is the connection under the PROXY header, whose RemoteAddr is
// the proxy's own address (as tls.Conn.NetConn): a server that trusts
// some proxies more than others (cluster front ends) looks here.
func (c *conn) NetConn() net.Conn { return c.Conn }
