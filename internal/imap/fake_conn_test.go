package imap

import (
	"net"
	"time"
)

// fakeRemote is a net.Conn from a non-loopback address, for capability checks only.
type fakeRemote struct{}

func (fakeRemote) Read([]byte) (int, error)    { return 0, net.ErrClosed }
func (fakeRemote) Write(b []byte) (int, error) { return len(b), nil }
func (fakeRemote) Close() error                { return nil }
func (fakeRemote) LocalAddr() net.Addr         { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 143} }
func (fakeRemote) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(198, 51, 100, 7), Port: 40000}
}
func (fakeRemote) SetDeadline(time.Time) error      { return nil }
func (fakeRemote) SetReadDeadline(time.Time) error  { return nil }
func (fakeRemote) SetWriteDeadline(time.Time) error { return nil }
