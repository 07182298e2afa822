//go:build !(linux || darwin || freebsd)

package diskspace

import "errors"

// statfs is not implemented here: the monitor logs the failure and never
// pauses background work.
func statfs(string) (avail, total uint64, err error) {
	return 0, 0, errors.New("free space measurement not supported on this system")
}
