package s3blob

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// observedTransport counts and times every request attempt, and logs the
// ones that fail or get a server error, so the retries minio-go makes
// silently show in the log and the metrics.
type observedTransport struct {
	next    http.RoundTripper
	log     *slog.Logger
	metrics *metrics
}

func (t observedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	status := 0
	if err == nil {
		status = resp.StatusCode
		t.metrics.duration.WithLabelValues(req.Method).Observe(time.Since(start).Seconds())
	}
	t.metrics.requests.WithLabelValues(req.Method, outcome(status, err)).Inc()
	switch {
	case err != nil && req.Context().Err() == nil:
		t.log.Warn("s3 request failed", "method", req.Method, "path", req.URL.Path, "err", err)
	case status >= 500:
		t.log.Warn("s3 request failed", "method", req.Method, "path", req.URL.Path, "status", status)
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
