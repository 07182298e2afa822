// Package dkim generates a domain's DKIM keys, renders their DNS records and
// signs outgoing mail with them (RFC 6376, with Ed25519 from RFC 8463). The
// keys live in the directory, so every node of a cluster signs alike.
package dkim

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strconv"
	"time"

	"github.com/rookery-mail/rookery/internal/directory"
)

// rsaBits is the RSA key size: RFC 8301 §3.2 requires at least 1024 and
// recommends 2048; larger keys no longer fit in one DNS TXT string anyway.
const rsaBits = 2048

// GenerateKeys makes a new RSA-2048 and a new Ed25519 key for domain. Both
// are needed: RFC 8463 §4 advises signing with both, since not every
// verifier knows Ed25519 yet. The selectors ("rk2026r", "rk2026e") carry the
// year of now, so a rotation in a later year gets fresh DNS names.
func GenerateKeys(domain string, now time.Time) ([]directory.DKIMKey, error) {
	d, err := directory.NormalizeDomain(domain)
	if err != nil {
		return nil, err
	}
	now = now.UTC()
	rsaKey, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		return nil, fmt.Errorf("generate DKIM RSA key for %s: %w", d, err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate DKIM Ed25519 key for %s: %w", d, err)
	}
	var keys []directory.DKIMKey
	for _, k := range []struct {
		algo string
		priv crypto.Signer
	}{
		{directory.DKIMRSA, rsaKey},
		{directory.DKIMEd25519, edKey},
	} {
		der, err := x509.MarshalPKCS8PrivateKey(k.priv)
		if err != nil {
			return nil, fmt.Errorf("encode DKIM %s key for %s: %w", k.algo, d, err)
		}
		keys = append(keys, directory.DKIMKey{
			Domain:        d,
			Selector:      Selector(now, k.algo),
			Algorithm:     k.algo,
			PrivateKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
			Created:       now,
		})
	}
	return keys, nil
}

// Selector is the selector GenerateKeys gives a key of algo made at now:
// "rk", the year, and "r" for RSA or "e" for Ed25519.
func Selector(now time.Time, algo string) string {
	suffix := "r"
	if algo == directory.DKIMEd25519 {
		suffix = "e"
	}
	return "rk" + strconv.Itoa(now.UTC().Year()) + suffix
}

// DNSRecord returns the TXT record that publishes key's public half: its
// owner name (RFC 6376 §3.6.2.1) and its value, in full. A 2048-bit RSA
// value exceeds 255 bytes; zone printers must split it into strings.
func DNSRecord(key directory.DKIMKey) (name, value string, err error) {
	priv, err := parsePrivateKey(key)
	if err != nil {
		return "", "", err
	}
	name = key.Selector + "._domainkey." + key.Domain
	switch pub := priv.Public().(type) {
	case *rsa.PublicKey:
		// RFC 6376 §3.6.1: p= is the DER SubjectPublicKeyInfo, base64.
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", "", fmt.Errorf("DKIM key %s of %s: %w", key.Selector, key.Domain, err)
		}
		value = "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	case ed25519.PublicKey:
		// RFC 8463 §4.2: p= is the raw 32-byte public key, base64.
		value = "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	}
	return name, value, nil
}

// parsePrivateKey decodes key's PEM and checks that it matches its
// Algorithm. It is slow for RSA, hence the Signer's cache.
func parsePrivateKey(key directory.DKIMKey) (crypto.Signer, error) {
	fail := func(msg string, a ...any) error {
		return fmt.Errorf("DKIM key %s of %s: %s", key.Selector, key.Domain, fmt.Sprintf(msg, a...))
	}
	block, _ := pem.Decode([]byte(key.PrivateKeyPEM))
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fail("not a PEM PKCS #8 private key")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fail("%v", err)
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		if key.Algorithm != directory.DKIMRSA {
			return nil, fail("RSA key stored as %s", key.Algorithm)
		}
		if k.N.BitLen() < 1024 { // RFC 8301 §3.2: verifiers reject these
			return nil, fail("RSA key of %d bits is too short", k.N.BitLen())
		}
		return k, nil
	case ed25519.PrivateKey:
		if key.Algorithm != directory.DKIMEd25519 {
			return nil, fail("Ed25519 key stored as %s", key.Algorithm)
		}
		return k, nil
	}
	return nil, fail("unsupported key type %T", k)
}
