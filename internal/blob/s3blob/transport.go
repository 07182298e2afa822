package s3blob

import (
	"log/slog"
	"net/http"
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
