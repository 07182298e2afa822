package diskspace

import (
	"errors"
	"syscall"

	sqlite "modernc.org/sqlite"
)

// sqliteFull is SQLITE_FULL, SQLite's answer to a write the disk (or
// max_page_count) cannot take.
const sqliteFull = 13

// IsFull reports whether err says the disk or the file system quota is
// full: ENOSPC or EDQUOT from a file write, SQLITE_FULL from an embedded
// database. The embedded engines use it to report ErrNoSpace.
func IsFull(err error) bool {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqliteFull
}
