package mailstore

import (
	"errors"
	"fmt"
	"syscall"
)

// NoSpace returns err marked with ErrNoSpace (both stay visible to
// errors.Is) when it reports a full disk or file system quota (ENOSPC,
// EDQUOT), and err unchanged otherwise. Engines and the protocol servers'
// own temporary files use it so a full disk gets one answer everywhere.
func NoSpace(err error) error {
	if err == nil || errors.Is(err, ErrNoSpace) {
		return err
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", ErrNoSpace, err)
	}
	return err
}
