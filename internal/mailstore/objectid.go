package mailstore

import (
	"crypto/rand"
	"encoding/base64"
)

// NewMailboxObjectID returns a fresh MailboxInfo.ObjectID: "F" and 120
// random bits in base64url, inside RFC 8474's objectid syntax (1*255 of
// ALPHA, DIGIT, "_" and "-"). Random rather than derived from a storage
// key, so the id survives a move between stores and engines, and no two
// mailboxes anywhere share one.
func NewMailboxObjectID() string {
	var b [15]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return "F" + base64.RawURLEncoding.EncodeToString(b[:])
}
