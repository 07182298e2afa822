//go:build unix

package netserve

import "syscall"

// DefaultMaxConnections is the total connection bound for a role that is
// not configured with one: half the soft RLIMIT_NOFILE, leaving the other
// half for the other roles, the stores and the HTTP endpoints.
func DefaultMaxConnections() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return capFromRlimit(1024)
	}
	return capFromRlimit(rl.Cur)
}
