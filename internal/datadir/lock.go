// Package datadir guards a node's data directory: one rookery process
// serves it at a time, since two would run two queue runners and two
// indexers on the same databases.
package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrInUse is returned by Lock when another process holds the directory.
var ErrInUse = errors.New("data directory in use")

// LockFile is the name of the lock file inside the data directory.
const LockFile = "rookery.lock"

// inUseError says who holds the directory; it matches ErrInUse.
type inUseError struct{ dir, pid string }

func (e *inUseError) Error() string {
	return fmt.Sprintf("data directory %s is in use by another rookery (pid %s)", e.dir, e.pid)
}
func (e *inUseError) Unwrap() error { return ErrInUse }

// Lock is a held lock on a data directory.
type Lock struct{ f *os.File }

// Acquire takes an exclusive lock on dir without waiting (flock(2) on
// dir/rookery.lock, which the kernel releases when the process dies, so a
// crash never leaves a stale lock). The file records the holder's pid for
// the error another process gets.
func Acquire(dir string) (*Lock, error) {
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		pid, _ := os.ReadFile(f.Name())
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := strings.TrimSpace(string(pid))
			if holder == "" {
				holder = "?"
			}
			return nil, &inUseError{dir: dir, pid: holder}
		}
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Release gives the directory up.
func (l *Lock) Release() error {
	return l.f.Close() // closing the descriptor drops the flock
}
