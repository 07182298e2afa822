package sqlitestore

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// normalizeName validates a mailbox name and returns its stored form: a
// first level equal to INBOX in any case becomes "INBOX" (RFC 3501 §5.1),
// so "inbox/Sub" is "INBOX/Sub" as in Dovecot and Cyrus.
func normalizeName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: empty", mailstore.ErrInvalidName)
	}
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: %q is not UTF-8", mailstore.ErrInvalidName, name)
	}
	for _, r := range name {
		// RFC 3501 §5.1.2: * and % are LIST wildcards.
		if r < 0x20 || r == 0x7f || r == '*' || r == '%' {
			return "", fmt.Errorf("%w: %q contains %q", mailstore.ErrInvalidName, name, r)
		}
	}
	levels := strings.Split(name, mailstore.Separator)
	for _, l := range levels {
		if l == "" {
			return "", fmt.Errorf("%w: %q has an empty level", mailstore.ErrInvalidName, name)
		}
	}
	if strings.EqualFold(levels[0], mailstore.Inbox) {
		levels[0] = mailstore.Inbox
	}
	return strings.Join(levels, mailstore.Separator), nil
}

// parents returns the ancestors of a normalized name, outermost first:
// "a/b/c" → ["a", "a/b"].
func parents(name string) []string {
	var out []string
	for i := 0; i < len(name); i++ {
		if strings.HasPrefix(name[i:], mailstore.Separator) {
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

func normalizeSpecialUse(su string) (string, error) {
	if su == "" {
		return "", nil
	}
	if c, ok := specialUses[strings.ToLower(su)]; ok {
		return c, nil
	}
	// RFC 6154 §3 USEATTR: the server rejects unknown special-use attributes.
	return "", fmt.Errorf("unknown special-use attribute %q", su)
}
