package sqlitestore

import (
	"errors"
	"fmt"

	"github.com/rookery-mail/rookery/internal/diskspace"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

// noSpace marks err with mailstore.ErrNoSpace when it reports a full disk:
// SQLITE_FULL from the database, ENOSPC or EDQUOT from the blob store.
func noSpace(err error) error {
	if err == nil || errors.Is(err, mailstore.ErrNoSpace) || !diskspace.IsFull(err) {
		return err
	}
	return fmt.Errorf("%w: %w", mailstore.ErrNoSpace, err)
}
