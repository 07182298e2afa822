//go:build !linux

package netserve

import "net"

// WatchHangup is the Linux hang-up watcher's stand-in: elsewhere a command
// whose client went away runs to its end (and fails at its first write).
func WatchHangup(c net.Conn, hangup func()) (stop func()) { return func() {} }
