package mailstore

import (
	"fmt"
	"strings"
)

// CreateName validates a CREATE's name and special-use attribute and
// returns their stored forms (NormalizeName, NormalizeSpecialUse). It
// checks the name bounds too, so an engine calls it before making any
// parent.
func CreateName(name, specialUse string) (norm, su string, err error) {
	norm, err = NormalizeName(name)
	if err != nil {
		return "", "", err
	}
	if err := CheckNameBounds(norm); err != nil {
		return "", "", err
	}
	su, err = NormalizeSpecialUse(specialUse)
	if err != nil {
		return "", "", err
	}
	return norm, su, nil
}

// RenameTarget returns the stored form of newName as the new name of the
// existing mailbox src, applying the rules every engine shares (RFC 3501
// §6.3.5): nothing is renamed to INBOX (it always exists), and a mailbox
// other than INBOX cannot take its own name or one below itself. Renaming
// INBOX itself is allowed: its messages move to the new mailbox.
func RenameTarget(src, newName string) (string, error) {
	dst, err := NormalizeName(newName)
	if err != nil {
		return "", err
	}
	if dst == Inbox {
		return "", fmt.Errorf("%q: %w", dst, ErrMailboxExists)
	}
	if src == Inbox {
		return dst, nil
	}
	if dst == src {
		return "", fmt.Errorf("%q: %w", dst, ErrMailboxExists)
	}
	if strings.HasPrefix(dst, src+Separator) {
		return "", fmt.Errorf("%w: cannot rename %q into itself", ErrInvalidName, src)
	}
	return dst, nil
}
