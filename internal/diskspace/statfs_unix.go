//go:build linux || darwin || freebsd

package diskspace

import (
	"fmt"
	"syscall"
)

// statfs reports the bytes available to an unprivileged process (not the
// root-only blocks) and the size of the file system holding dir.
func statfs(dir string) (avail, total uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	bs := uint64(st.Bsize)
	return uint64(st.Bavail) * bs, uint64(st.Blocks) * bs, nil
}
