package mailstore

import (
	"fmt"
	"slices"
	"strings"
)

// ACLRights are the RFC 4314 §2.1 right letters a stored entry may hold.
const ACLRights = "lrswipkxtea"

// NormalizeRights returns rights sorted (in byte order) without
// duplicates, or an error for a letter that is not an RFC 4314 right;
// protocol layers translate obsolete or extended forms before this.
// Engines store only what it returns, so all of them compare rights alike.
func NormalizeRights(rights string) (string, error) {
	b := []byte(rights)
	for _, c := range b {
		if !strings.ContainsRune(ACLRights, rune(c)) {
			return "", fmt.Errorf("invalid ACL right %q", c)
		}
	}
	slices.Sort(b)
	return string(slices.Compact(b)), nil
}
