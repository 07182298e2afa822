package mailstore

import (
	"errors"
	"fmt"
)

// Bounds on the mailbox names an account can create, engine-neutral so
// every engine and protocol refuses the same names. Dovecot and Cyrus bound
// names and depth alike; without a bound one CREATE of a name 20,000 levels
// deep makes 20,000 mailboxes (RFC 3501 §6.3.3 creates the parents).
const (
	MaxNameBytes  = 1024 // whole name, UTF-8 bytes
	MaxLevelBytes = 255  // one level between separators
	MaxNameLevels = 64   // levels in one name ("a/b/c" has 3)
)

// DefaultMaxMailboxes bounds the mailboxes of one account when the
// configuration does not say otherwise.
const DefaultMaxMailboxes = 10000

// ErrLimit: the change would exceed an implementation limit (a name bound
// or the mailbox count). Engines return it as a *LimitError.
var ErrLimit = errors.New("mailstore: limit exceeded")

// LimitError names the limit a change ran into; Text is written for the
// user and safe to send to a client.
type LimitError struct{ Text string }

func (e *LimitError) Error() string { return "mailstore: " + e.Text }

// Unwrap makes errors.Is(err, ErrLimit) true.
func (e *LimitError) Unwrap() error { return ErrLimit }

// CheckNameBounds returns a *LimitError if a new mailbox name exceeds the
// name bounds. Engines call it for every name a create or rename makes, and
// not on lookups, so names made before the bounds existed can still be
// opened, renamed shorter and deleted. It costs O(MaxNameBytes) at most.
func CheckNameBounds(name string) error {
	if len(name) > MaxNameBytes {
		return &LimitError{fmt.Sprintf("Mailbox name is longer than %d bytes", MaxNameBytes)}
	}
	levels, start := 1, 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != Separator[0] {
			continue
		}
		if i-start > MaxLevelBytes {
			return &LimitError{fmt.Sprintf("Mailbox name has a level longer than %d bytes", MaxLevelBytes)}
		}
		if i < len(name) {
			levels++
			start = i + 1
		}
	}
	if levels > MaxNameLevels {
		return &LimitError{fmt.Sprintf("Mailbox name is deeper than %d levels", MaxNameLevels)}
	}
	return nil
}
