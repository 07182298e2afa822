package dkim

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"sync"

	msgauth "github.com/emersion/go-msgauth/dkim"

	"github.com/rookery-mail/rookery/internal/directory"
)

// ErrNoKeys means the domain has no DKIM keys (or is not local): Sign then
// returns the message unchanged, and the caller decides whether to send it
// unsigned and log it.
var ErrNoKeys = errors.New("dkim: no signing keys")

// signedHeaders are the fields each signature covers (RFC 6376 §5.4.1).
// From is listed twice (RFC 6376 §8.15, "oversigning"): a second From added
// in transit then breaks the signature instead of being shown to the
// reader. Fields absent from a message are signed as empty, so they cannot
// be added later either.
var signedHeaders = []string{
	"From", "From", "Reply-To", "To", "Cc", "Subject", "Date", "Message-ID",
	"In-Reply-To", "References", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
}

// Signer signs outgoing mail with the keys of the sender's domain from the
// directory. It caches parsed private keys (parsing RSA is slow) and is safe
// for concurrent use.
type Signer struct {
	dir directory.Directory

	mu    sync.Mutex
	cache map[cacheKey]crypto.Signer
}

// cacheKey identifies a stored key. Keys are never updated in place, only
// added and deleted, so a changed key always has a new cacheKey.
type cacheKey struct {
	domain, selector, algorithm string
	created                     int64 // UnixNano
}

// NewSigner returns a Signer over dir. It does no I/O.
func NewSigner(dir directory.Directory) *Signer {
	return &Signer{dir: dir, cache: make(map[cacheKey]crypto.Signer)}
}

// Sign returns msg (with CRLF line endings) with one DKIM-Signature field
// prepended per algorithm: the newest RSA and the newest Ed25519 key of
// domain (RFC 8463 §4 dual signing), relaxed/relaxed canonicalization
// (RFC 6376 §3.4, which survives the header rewrapping of relays) and no
// l= tag (RFC 6376 §8.2: it lets anyone append to the body). A domain
// without keys gives msg unchanged and an error matching ErrNoKeys.
func (s *Signer) Sign(ctx context.Context, domain string, msg []byte) ([]byte, error) {
	keys, err := s.dir.DKIMKeys(ctx, domain)
	if errors.Is(err, directory.ErrNotFound) || errors.Is(err, directory.ErrInvalid) {
		s.forget(domain)
		return msg, fmt.Errorf("%w: %w", ErrNoKeys, err)
	}
	if err != nil {
		return nil, fmt.Errorf("dkim sign: %w", err)
	}
	keys = newestPerAlgorithm(keys)
	if len(keys) == 0 {
		s.forget(domain)
		return msg, fmt.Errorf("%w for domain %s", ErrNoKeys, domain)
	}
	signers, err := s.privateKeys(keys)
	if err != nil {
		return nil, fmt.Errorf("dkim sign: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sigs, err := sign(msg, keys, signers)
	if err != nil {
		return nil, fmt.Errorf("dkim sign for %s: %w", domain, err)
	}
	out := make([]byte, 0, len(sigs)+len(msg))
	return append(append(out, sigs...), msg...), nil
}

// sign computes one signature per key in a single pass over msg.
func sign(msg []byte, keys []directory.DKIMKey, signers []crypto.Signer) (string, error) {
	ws := make([]*msgauth.Signer, len(keys))
	writers := make([]io.Writer, len(keys))
	for i, k := range keys {
		w, err := msgauth.NewSigner(&msgauth.SignOptions{
			Domain:                 k.Domain,
			Selector:               k.Selector,
			Signer:                 signers[i],
			Hash:                   crypto.SHA256,
			HeaderCanonicalization: msgauth.CanonicalizationRelaxed,
			BodyCanonicalization:   msgauth.CanonicalizationRelaxed,
			HeaderKeys:             signedHeaders,
		})
		if err != nil {
			closeAll(ws[:i])
			return "", err
		}
		ws[i], writers[i] = w, w
	}
	if _, err := io.Copy(io.MultiWriter(writers...), bytes.NewReader(msg)); err != nil {
		closeAll(ws)
		return "", err
	}
	var b bytes.Buffer
	for _, w := range ws {
		if err := w.Close(); err != nil {
			closeAll(ws)
			return "", err
		}
		b.WriteString(w.Signature())
	}
	return b.String(), nil
}

// closeAll releases signers after a failure; their errors add nothing.
func closeAll(ws []*msgauth.Signer) {
	for _, w := range ws {
		_ = w.Close()
	}
}

// newestPerAlgorithm keeps the first (newest) key of each algorithm, RSA
// first; keys comes newest first from the directory. An older key stays
// published for a while after a rotation but no longer signs.
func newestPerAlgorithm(keys []directory.DKIMKey) []directory.DKIMKey {
	var out []directory.DKIMKey
	for _, algo := range []string{directory.DKIMRSA, directory.DKIMEd25519} {
		for _, k := range keys {
			if k.Algorithm == algo {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

// privateKeys returns the parsed keys, from the cache when it has them. It
// drops cached keys of the domain that are no longer in use, so a rotated
// or deleted key does not linger.
func (s *Signer) privateKeys(keys []directory.DKIMKey) ([]crypto.Signer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]crypto.Signer, len(keys))
	current := make(map[cacheKey]bool, len(keys))
	for i, k := range keys {
		ck := cacheKey{k.Domain, k.Selector, k.Algorithm, k.Created.UnixNano()}
		current[ck] = true
		if p, ok := s.cache[ck]; ok {
			out[i] = p
			continue
		}
		// Parsing under the lock is rare (once per key) and keeps two
		// concurrent first signatures from parsing twice.
		p, err := parsePrivateKey(k)
		if err != nil {
			return nil, err
		}
		s.cache[ck] = p
		out[i] = p
	}
	for ck := range s.cache {
		if ck.domain == keys[0].Domain && !current[ck] {
			delete(s.cache, ck)
		}
	}
	return out, nil
}

// forget drops the cached keys of a domain that has none any more.
func (s *Signer) forget(domain string) {
	d, err := directory.NormalizeDomain(domain)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for ck := range s.cache {
		if ck.domain == d {
			delete(s.cache, ck)
		}
	}
}

// cached reports how many parsed keys the cache holds; for tests.
func (s *Signer) cached() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cache)
}
