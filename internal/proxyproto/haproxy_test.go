package proxyproto

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestHAProxy puts a real HAProxy in front of the listener, once per
// protocol version, and checks that the server sees the client's own
// address and HAProxy's frontend address. Skipped without haproxy, except under CI=true.
func TestHAProxy(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("haproxy is required in CI (.ci/run installs it)")
		}
		t.Skip("haproxy not installed (apt-get install haproxy)")
	}
	// The crc32c option makes HAProxy append a TLV, which must be skipped.
	for _, mode := range []string{"send-proxy", "send-proxy-v2", "send-proxy-v2 proxy-v2-options crc32c"} {
		t.Run(mode, func(t *testing.T) {
			f := listen(t, "127.0.0.0/8", 5*time.Second)
			front := startHAProxy(t, bin, mode, f)

			c, err := net.Dial("tcp", front)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			write(t, c, []byte("EHLO client.example\r\n"))
			s := f.accept(t, 5*time.Second)
			if got, want := s.RemoteAddr().String(), c.LocalAddr().String(); got != want {
				t.Errorf("RemoteAddr = %s, want the client's %s", got, want)
			}
			if got := s.LocalAddr().String(); got != front {
				t.Errorf("LocalAddr = %s, want HAProxy's frontend %s", got, front)
			}
			if got := string(readN(t, s, 21)); got != "EHLO client.example\r\n" {
				t.Errorf("server got %q", got)
			}
			write(t, s, []byte("250 ok\r\n"))
			if got := string(readN(t, c, 8)); got != "250 ok\r\n" {
				t.Errorf("client got %q", got)
			}
		})
	}
}

// startHAProxy runs haproxy in the foreground with a TCP frontend on a free
// port that forwards to f's listener with the given send-proxy option, and
// returns the frontend address once a probe connection has gone through
// (the probe is consumed here so the test sees only its own connection).
func startHAProxy(t *testing.T, bin, mode string, f *fixture) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	front := l.Addr().String()
	l.Close()
	cfg := fmt.Sprintf(`defaults
	mode tcp
	timeout connect 5s
	timeout client 30s
	timeout server 30s
frontend fe
	bind %s
	default_backend be
backend be
	server s1 %s %s
`, front, f.ln.Addr(), mode)
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = t.Output(), t.Output()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", front); err == nil {
			defer c.Close()
			write(t, c, []byte("probe"))
			if got := string(readN(t, f.accept(t, 5*time.Second), 5)); got != "probe" {
				t.Fatalf("probe through haproxy read %q", got)
			}
			return front
		}
	}
	t.Fatalf("haproxy did not listen on %s", front)
	return ""
}
