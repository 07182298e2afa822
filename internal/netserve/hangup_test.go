package netserve

import (
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

// tcpPair returns the server and client ends of a loopback connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// TestWatchHangup: data from the client neither fires the watcher nor is
// consumed by it; the client closing fires it; stop ends it.
func TestWatchHangup(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("hang-up detection is Linux-only")
	}
	server, client := tcpPair(t)
	fired := make(chan struct{}, 1)
	stop := WatchHangup(server, func() { fired <- struct{}{} })
	defer stop()
	if _, err := client.Write([]byte("A1 NOOP\r\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-fired:
		t.Fatal("watcher fired on data")
	case <-time.After(3 * hangupPoll):
	}
	client.Close()
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Fatal("watcher did not fire after the client closed")
	}
	server.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, _ := io.ReadAll(server)
	if string(got) != "A1 NOOP\r\n" {
		t.Fatalf("server read %q after the watch, want the client's data", got)
	}

	// Once stopped, a hang-up is not reported.
	server2, client2 := tcpPair(t)
	stop2 := WatchHangup(server2, func() { fired <- struct{}{} })
	stop2()
	client2.Close()
	select {
	case <-fired:
		t.Fatal("stopped watcher fired")
	case <-time.After(3 * hangupPoll):
	}
	// A pipe has no socket: nothing to watch, nothing fires.
	p1, p2 := net.Pipe()
	defer p1.Close()
	WatchHangup(p1, func() { fired <- struct{}{} })()
	p2.Close()
}
