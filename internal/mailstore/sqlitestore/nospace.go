package sqlitestore

import (
	"errors"
	"fmt"

	sqlite "modernc.org/sqlite"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// sqliteFull is SQLITE_FULL, SQLite's answer to a write the disk (or
// max_page_count) cannot take.
const sqliteFull = 13

// noSpace marks err with mailstore.ErrNoSpace when it reports a full disk:
// SQLITE_FULL from the database, ENOSPC or EDQUOT from the blob store.
func noSpace(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqliteFull && !errors.Is(err, mailstore.ErrNoSpace) {
		return fmt.Errorf("%w: %w", mailstore.ErrNoSpace, err)
	}
	return mailstore.NoSpace(err)
}
