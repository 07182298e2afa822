package directory

import (
	"fmt"
	"strings"
	"time"
)

// DKIM signing algorithms a DKIMKey may have: RFC 6376 §3.3 and RFC 8463 §3.
const (
	DKIMRSA     = "rsa-sha256"
	DKIMEd25519 = "ed25519-sha256"
)

// DKIMKey is one DKIM signing key of a domain. The directory stores it
// without parsing it; package dkim generates and uses it.
type DKIMKey struct {
	Domain    string
	Selector  string // one DNS label: the key is published at Selector._domainkey.Domain
	Algorithm string // DKIMRSA or DKIMEd25519
	// PrivateKeyPEM is the PKCS #8 private key, PEM-encoded. It is a secret:
	// never log it.
	PrivateKeyPEM string
	Created       time.Time // engines keep at least microsecond precision
}

// NormalizeDKIMKey returns key with a canonical domain and selector (lower
// case) and Created in UTC, or ErrInvalid. Engines call it before storing.
func NormalizeDKIMKey(key DKIMKey) (DKIMKey, error) {
	d, err := NormalizeDomain(key.Domain)
	if err != nil {
		return DKIMKey{}, err
	}
	key.Domain = d
	sel := strings.ToLower(strings.TrimSpace(key.Selector))
	// RFC 6376 §3.1: a selector is dot-separated sub-domains; we keep to one
	// label, which is all this system generates.
	if strings.Contains(sel, ".") || checkDomain(sel) != nil {
		return DKIMKey{}, fmt.Errorf("DKIM selector %q: %w", key.Selector, ErrInvalid)
	}
	key.Selector = sel
	if key.Algorithm != DKIMRSA && key.Algorithm != DKIMEd25519 {
		return DKIMKey{}, fmt.Errorf("DKIM algorithm %q: %w", key.Algorithm, ErrInvalid)
	}
	if !strings.Contains(key.PrivateKeyPEM, "-----BEGIN ") {
		return DKIMKey{}, fmt.Errorf("DKIM key %s: private key is not PEM: %w", sel, ErrInvalid)
	}
	if key.Created.IsZero() {
		return DKIMKey{}, fmt.Errorf("DKIM key %s: no creation time: %w", sel, ErrInvalid)
	}
	key.Created = key.Created.UTC()
	return key, nil
}
