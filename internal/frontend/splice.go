package frontend

import (
	"io"
	"net"
)

// Splice copies bytes between a client and its back end until either
// side closes, then closes both. fromClient is what the session reads the
// client through: bytes it had buffered (commands pipelined behind the
// login) reach the back end first. The client may be TLS; the back end
// enforces its own timeouts and limits from here on.
func Splice(client net.Conn, fromClient io.Reader, backend net.Conn) {
	toBackend := make(chan struct{})
	go func() {
		defer close(toBackend)
		io.Copy(backend, fromClient)
		backend.Close() // the client left: the back end ends its session
	}()
	io.Copy(client, backend)
	client.Close() // ends the copy above
	backend.Close()
	<-toBackend
}

// SocketPeer is the remote address of the socket under c's TLS and PROXY
// layers: for a connection that came through a PROXY header, the
// proxy's own address, which tells a cluster peer from a client.
func SocketPeer(c net.Conn) net.Addr {
	for {
		w, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return c.RemoteAddr()
		}
		c = w.NetConn()
	}
}
