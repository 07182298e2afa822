//go:build unix

package netserve

import (
	"syscall"
	"testing"
)

// TestGlobalCapFromRlimit: an unconfigured total bound is half the soft
// open-file limit the process runs with, so the other half stays for the
// other roles; an unlimited RLIMIT_NOFILE still gives a bound.
func TestGlobalCapFromRlimit(t *testing.T) {
	for soft, want := range map[uint64]int{0: 1, 1: 1, 1024: 512, 40000: 20000, ^uint64(0): 1 << 20} {
		if got := capFromRlimit(soft); got != want {
			t.Errorf("capFromRlimit(%d) = %d, want %d", soft, got, want)
		}
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	lowered := old
	lowered.Cur = min(old.Max, 300)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lowered); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
	if got, want := DefaultMaxConnections(), int(lowered.Cur/2); got != want {
		t.Fatalf("DefaultMaxConnections with a soft limit of %d = %d, want %d", lowered.Cur, got, want)
	}
}
