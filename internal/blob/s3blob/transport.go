package s3blob

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// logTransport logs every request attempt that fails or gets a server
// error, so retries (which minio-go makes silently) show in the log.
type logTransport struct {
	next http.RoundTripper
	log  *slog.Logger
}

func (t logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	switch {
	case err != nil && req.Context().Err() == nil:
		t.log.Warn("s3 request failed", "method", req.Method, "path", req.URL.Path, "err", err)
	case err == nil && resp.StatusCode >= 500:
		t.log.Warn("s3 request failed", "method", req.Method, "path", req.URL.Path, "status", resp.StatusCode)
	}
	return resp, err
}

// stallDialer dials connections whose writes fail once the server has
// taken nothing for timeout. ResponseHeaderTimeout starts only after a
// request body is sent, so without this an upload to a server that stopped
// reading would wait on a full socket buffer forever.
type stallDialer struct {
	net.Dialer
	timeout time.Duration
}

func (d *stallDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.Dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return writeDeadlineConn{c, d.timeout}, nil
}

type writeDeadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c writeDeadlineConn) Write(p []byte) (int, error) {
	if err := c.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}
