//go:build !unix

package netserve

// DefaultMaxConnections is the total connection bound for a role that is
// not configured with one; without RLIMIT_NOFILE, that of a 1024 limit.
func DefaultMaxConnections() int { return capFromRlimit(1024) }
