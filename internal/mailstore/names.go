package mailstore

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
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

// NormalizeName validates a mailbox name and returns its stored form: a
// first level equal to INBOX in any case becomes "INBOX" (RFC 3501 §5.1),
// so "inbox/Sub" is "INBOX/Sub" as in Dovecot and Cyrus. Every engine
// calls it so all of them accept and spell names alike.
func NormalizeName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidName)
	}
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: %q is not UTF-8", ErrInvalidName, name)
	}
	for _, r := range name {
		// RFC 3501 §5.1.2: * and % are LIST wildcards.
		if r < 0x20 || r == 0x7f || r == '*' || r == '%' {
			return "", fmt.Errorf("%w: %q contains %q", ErrInvalidName, name, r)
		}
	}
	levels := strings.Split(name, Separator)
	for _, l := range levels {
		if l == "" {
			return "", fmt.Errorf("%w: %q has an empty level", ErrInvalidName, name)
		}
	}
	if strings.EqualFold(levels[0], Inbox) {
		levels[0] = Inbox
	}
	return strings.Join(levels, Separator), nil
}

// Parents returns the ancestors of a normalized name, outermost first:
// "a/b/c" → ["a", "a/b"]. CREATE makes them (RFC 3501 §6.3.3).
func Parents(name string) []string {
	var out []string
	for i := 0; i < len(name); i++ {
		if strings.HasPrefix(name[i:], Separator) {
			out = append(out, name[:i])
		}
	}
	return out
}

// specialUses are the RFC 6154 §2 attributes a mailbox may carry.
var specialUses = map[string]string{
	`\all`: `\All`, `\archive`: `\Archive`, `\drafts`: `\Drafts`, `\flagged`: `\Flagged`,
	`\junk`: `\Junk`, `\sent`: `\Sent`, `\trash`: `\Trash`,
}

// NormalizeSpecialUse returns the canonical spelling of an RFC 6154
// special-use attribute ("" stays ""), or an error for an unknown one:
// RFC 6154 §3 USEATTR has the server reject those.
func NormalizeSpecialUse(su string) (string, error) {
	if su == "" {
		return "", nil
	}
	if c, ok := specialUses[strings.ToLower(su)]; ok {
		return c, nil
	}
	return "", fmt.Errorf("unknown special-use attribute %q", su)
}
