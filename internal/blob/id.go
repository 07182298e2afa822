package blob

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
)

// The blob id scheme every engine shares: the lower-case hex SHA-256 of
// the raw message bytes. Ids are stored in the metadata database, so two
// blob stores that disagreed on the scheme could not serve each other's
// messages, and the same bytes would not dedupe.

// IDLen is the length of an id in characters.
const IDLen = sha256.Size * 2

// ID returns the id of raw.
func ID(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// Hasher computes an id while a body streams through it: write the bytes,
// then call ID.
type Hasher struct{ h hash.Hash }

// NewHasher returns a Hasher with nothing written yet.
func NewHasher() *Hasher { return &Hasher{sha256.New()} }

// Write adds bytes; it never fails.
func (h *Hasher) Write(p []byte) (int, error) { return h.h.Write(p) }

// ID returns the id of everything written so far.
func (h *Hasher) ID() string { return hex.EncodeToString(h.h.Sum(nil)) }

// ValidID reports whether id has the form of an id (IDLen lower-case hex
// digits). Stores check it before using an id as a file or object name,
// which also keeps callers from naming paths outside the store.
func ValidID(id string) bool {
	if len(id) != IDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
