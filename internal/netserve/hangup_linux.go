package netserve

import (
	"errors"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// WatchHangup calls hangup once if the peer of c closes or resets the
// connection before stop is called. A session runs it around a command, so
// work for a client that went away (a LIST or SEARCH that would run for
// minutes) is cancelled instead of running to the end. It polls the socket
// for POLLRDHUP, which reads nothing, so data the client sends meanwhile
// stays for the session; a client that half-closes its side counts as gone.
// On connections without a socket (net.Pipe) it does nothing.
func WatchHangup(c net.Conn, hangup func()) (stop func()) {
	raw := rawConn(c)
	if raw == nil {
		return func() {}
	}
	done := make(chan struct{})
	timer := time.AfterFunc(hangupPoll, func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			var gone bool
			err := raw.Control(func(fd uintptr) {
				fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
				n, err := unix.Poll(fds, int(hangupPoll/time.Millisecond))
				if err != nil && !errors.Is(err, unix.EINTR) {
					gone = true // the socket is unusable
					return
				}
				gone = n > 0 && fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0
			})
			if err != nil || gone {
				// err: the connection was closed under us; its session is ending.
				select {
				case <-done: // stopped while polling: the command is over
				default:
					if gone {
						hangup()
					}
				}
				return
			}
		}
	})
	return func() {
		timer.Stop()
		close(done)
	}
}

// rawConn finds the socket under c, looking through TLS and other wrappers
// that expose NetConn.
func rawConn(c net.Conn) syscall.RawConn {
	for {
		if sc, ok := c.(syscall.Conn); ok {
			raw, err := sc.SyscallConn()
			if err != nil {
				return nil
			}
			return raw
		}
		w, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return nil
		}
		c = w.NetConn()
	}
}
