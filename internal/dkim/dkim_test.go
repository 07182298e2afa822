package dkim

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	msgauth "github.com/emersion/go-msgauth/dkim"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/directory/sqlitedir"
)

var t2026 = time.Date(2026, 11, 27, 18, 0, 0, 0, time.UTC)

const testMsg = "From: Alice <alice@example.test>\r\n" +
	"To: bob@elsewhere.test\r\n" +
	"Subject: hello\r\n" +
	"Date: Fri, 27 Nov 2026 18:00:00 +0000\r\n" +
	"Message-ID: <1@example.test>\r\n" +
	"\r\n" +
	"Hi Bob,\r\n" +
	"\r\n" +
	"see you.\r\n"

// newDir returns a directory with example.test and, when keys is true, the
// domain's generated keys.
func newDir(t *testing.T, keys bool) directory.Directory {
	t.Helper()
	d, err := sqlitedir.Open(t.Context(), filepath.Join(t.TempDir(), "directory.db"), sqlitedir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.AddDomain(t.Context(), "example.test"); err != nil {
		t.Fatal(err)
	}
	if keys {
		addKeys(t, d, "example.test", t2026)
	}
	return d
}

func addKeys(t *testing.T, d directory.Directory, domain string, now time.Time) []directory.DKIMKey {
	t.Helper()
	keys, err := GenerateKeys(domain, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if err := d.AddDKIMKey(t.Context(), k); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// lookup serves the TXT records of every key in d, as DNS would once the
// admin published them; no network.
func lookup(t *testing.T, d directory.Directory, domain string) func(string) ([]string, error) {
	keys, err := d.DKIMKeys(t.Context(), domain)
	if err != nil {
		t.Fatal(err)
	}
	records := map[string]string{}
	for _, k := range keys {
		name, value, err := DNSRecord(k)
		if err != nil {
			t.Fatal(err)
		}
		records[name] = value
	}
	return func(name string) ([]string, error) {
		if v, ok := records[name]; ok {
			return []string{v}, nil
		}
		return nil, fmt.Errorf("no TXT record for %s", name)
	}
}

// verify runs go-msgauth's verifier, an implementation independent of ours,
// with DNS served by lookupTXT.
func verify(t *testing.T, msg []byte, lookupTXT func(string) ([]string, error)) ([]*msgauth.Verification, error) {
	t.Helper()
	return msgauth.VerifyWithOptions(bytes.NewReader(msg), &msgauth.VerifyOptions{LookupTXT: lookupTXT})
}

func TestGenerateKeys(t *testing.T) {
	keys, err := GenerateKeys("Example.TEST", t2026)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("GenerateKeys gave %d keys, want 2", len(keys))
	}
	for i, want := range []struct{ sel, algo, k string }{
		{"rk2026r", directory.DKIMRSA, "k=rsa"},
		{"rk2026e", directory.DKIMEd25519, "k=ed25519"},
	} {
		k := keys[i]
		if k.Domain != "example.test" || k.Selector != want.sel || k.Algorithm != want.algo || !k.Created.Equal(t2026) {
			t.Errorf("key %d = %s %s %s %v, want example.test %s %s %v", i, k.Domain, k.Selector, k.Algorithm, k.Created, want.sel, want.algo, t2026)
		}
		if _, err := directory.NormalizeDKIMKey(k); err != nil {
			t.Errorf("key %d is not storable: %v", i, err)
		}
		name, value, err := DNSRecord(k)
		if err != nil {
			t.Fatal(err)
		}
		if name != want.sel+"._domainkey.example.test" || !strings.HasPrefix(value, "v=DKIM1; "+want.k+"; p=") {
			t.Errorf("DNSRecord = %q, %q", name, value)
		}
		p, err := parsePrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		switch p := p.(type) {
		case *rsa.PrivateKey:
			if p.N.BitLen() != 2048 {
				t.Errorf("RSA key has %d bits, want 2048", p.N.BitLen())
			}
			// A 2048-bit key's record is longer than one TXT string.
			if len(value) <= 255 {
				t.Errorf("RSA record is %d bytes; expected > 255", len(value))
			}
		case ed25519.PrivateKey:
		default:
			t.Errorf("key %d is a %T", i, p)
		}
	}
	if _, err := GenerateKeys("bad domain", t2026); !errors.Is(err, directory.ErrInvalid) {
		t.Errorf("GenerateKeys(bad domain): %v, want ErrInvalid", err)
	}
}

func TestParsePrivateKeyRejects(t *testing.T) {
	keys, err := GenerateKeys("example.test", t2026)
	if err != nil {
		t.Fatal(err)
	}
	swapped := keys[0]
	swapped.Algorithm = directory.DKIMEd25519
	garbage := keys[1]
	garbage.PrivateKeyPEM = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
	for name, k := range map[string]directory.DKIMKey{"algorithm mismatch": swapped, "garbage": garbage} {
		if _, _, err := DNSRecord(k); err == nil {
			t.Errorf("DNSRecord accepted %s", name)
		}
	}
}

// Both signatures verify against the published records, with the signed
// fields and canonicalization we promise.
func TestSignVerify(t *testing.T) {
	d := newDir(t, true)
	s := NewSigner(d)
	signed, err := s.Sign(t.Context(), "Example.test", []byte(testMsg))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(signed, []byte(testMsg)) {
		t.Fatalf("signed message does not end with the original:\n%s", signed)
	}
	head := string(signed[:len(signed)-len(testMsg)])
	for _, want := range []string{"a=rsa-sha256", "a=ed25519-sha256", "s=rk2026r", "s=rk2026e", "c=relaxed/relaxed"} {
		if !strings.Contains(head, want) {
			t.Errorf("signature fields lack %q:\n%s", want, head)
		}
	}
	if strings.Contains(head, " l=") || strings.Contains(head, ";l=") {
		t.Errorf("signature has an l= tag:\n%s", head)
	}
	vs, err := verify(t, signed, lookup(t, d, "example.test"))
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 {
		t.Fatalf("got %d verifications, want 2", len(vs))
	}
	for _, v := range vs {
		if v.Err != nil {
			t.Errorf("signature of %s: %v", v.Domain, v.Err)
		}
		if v.Domain != "example.test" {
			t.Errorf("d= %s, want example.test", v.Domain)
		}
		from := 0
		for _, h := range v.HeaderKeys {
			if strings.EqualFold(h, "From") {
				from++
			}
		}
		if from != 2 {
			t.Errorf("h= %v: From signed %d times, want 2 (oversigned)", v.HeaderKeys, from)
		}
	}

	// Tampering breaks both signatures.
	for name, tamper := range map[string]func(string) string{
		"body":        func(m string) string { return strings.Replace(m, "see you.", "send money.", 1) },
		"subject":     func(m string) string { return strings.Replace(m, "Subject: hello", "Subject: urgent", 1) },
		"second From": func(m string) string { return "From: mallory@evil.test\r\n" + m },
	} {
		vs, err := verify(t, []byte(tamper(string(signed))), lookup(t, d, "example.test"))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if v.Err == nil {
				t.Errorf("%s modified: a signature still verifies", name)
			}
		}
	}
}

// Relaxed canonicalization (RFC 6376 §3.4.2, §3.4.4) tolerates what relays
// do to whitespace and header case.
func TestSignSurvivesRewrapping(t *testing.T) {
	d := newDir(t, true)
	signed, err := NewSigner(d).Sign(t.Context(), "example.test", []byte(testMsg))
	if err != nil {
		t.Fatal(err)
	}
	m := strings.Replace(string(signed), "Subject: hello", "SUBJECT:   hello", 1)
	m = strings.Replace(m, "see you.\r\n", "see   you.  \r\n\r\n\r\n", 1)
	vs, err := verify(t, []byte(m), lookup(t, d, "example.test"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.Err != nil {
			t.Errorf("after rewrapping: %v", v.Err)
		}
	}
}

func TestSignWithoutKeys(t *testing.T) {
	d := newDir(t, false)
	s := NewSigner(d)
	for _, domain := range []string{"example.test", "unknown.test", "not a domain"} {
		out, err := s.Sign(t.Context(), domain, []byte(testMsg))
		if !errors.Is(err, ErrNoKeys) {
			t.Errorf("Sign for %s: %v, want ErrNoKeys", domain, err)
		}
		if string(out) != testMsg {
			t.Errorf("Sign for %s changed the message:\n%s", domain, out)
		}
	}
}

// After a rotation the newest keys sign, and the cache drops the old ones.
func TestRotation(t *testing.T) {
	d := newDir(t, true)
	s := NewSigner(d)
	if _, err := s.Sign(t.Context(), "example.test", []byte(testMsg)); err != nil {
		t.Fatal(err)
	}
	if n := s.cached(); n != 2 {
		t.Fatalf("cache holds %d keys, want 2", n)
	}
	addKeys(t, d, "example.test", t2026.AddDate(1, 0, 0))
	signed, err := s.Sign(t.Context(), "example.test", []byte(testMsg))
	if err != nil {
		t.Fatal(err)
	}
	vs, err := verify(t, signed, lookup(t, d, "example.test"))
	if err != nil {
		t.Fatal(err)
	}
	head := string(signed[:len(signed)-len(testMsg)])
	var sels []string
	for _, sel := range []string{"rk2026r", "rk2026e", "rk2027r", "rk2027e"} {
		if strings.Contains(head, "s="+sel) {
			sels = append(sels, sel)
		}
	}
	if !slices.Equal(sels, []string{"rk2027r", "rk2027e"}) || len(vs) != 2 || vs[0].Err != nil || vs[1].Err != nil {
		t.Fatalf("after rotation: signed with %v, verifications %v", sels, vs)
	}
	if n := s.cached(); n != 2 {
		t.Fatalf("cache holds %d keys after rotation, want 2", n)
	}

	// Deleting the domain deletes its keys; the cache follows.
	if err := d.DeleteDomain(t.Context(), "example.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(t.Context(), "example.test", []byte(testMsg)); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("Sign after domain delete: %v, want ErrNoKeys", err)
	}
	if n := s.cached(); n != 0 {
		t.Fatalf("cache holds %d keys after domain delete, want 0", n)
	}
}

func TestSignConcurrent(t *testing.T) {
	d := newDir(t, true)
	s := NewSigner(d)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := s.Sign(t.Context(), "example.test", []byte(testMsg))
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	d, err := sqlitedir.Open(b.Context(), filepath.Join(b.TempDir(), "directory.db"), sqlitedir.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if err := d.AddDomain(b.Context(), "example.test"); err != nil {
		b.Fatal(err)
	}
	keys, err := GenerateKeys("example.test", t2026)
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range keys {
		if err := d.AddDKIMKey(b.Context(), k); err != nil {
			b.Fatal(err)
		}
	}
	s := NewSigner(d)
	msg := []byte(testMsg)
	for b.Loop() {
		if _, err := s.Sign(b.Context(), "example.test", msg); err != nil {
			b.Fatal(err)
		}
	}
}
