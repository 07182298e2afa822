package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/rookery-mail/rookery/internal/directory"
)

// authCacheTTL bounds how long a verified password is remembered, and so
// how long an old password keeps working after `rookery user passwd` run
// from another process (Dovecot's auth_cache_ttl plays the same role).
const authCacheTTL = 5 * time.Minute

// authCache remembers successful logins so that a client that logs in
// again and again (mbsync, webmail, phones) does not pay the argon2id cost
// each time. It holds an HMAC of the password under a random per-process
// key, never the password, and only positive results.
type authCache struct {
	mu      sync.Mutex
	key     [32]byte
	now     func() time.Time
	entries map[string]authEntry
}

type authEntry struct {
	mac     [32]byte
	acct    directory.Account
	expires time.Time
}

func newAuthCache() *authCache {
	c := &authCache{now: time.Now, entries: map[string]authEntry{}}
	rand.Read(c.key[:])
	return c
}

func (c *authCache) mac(user, password string) [32]byte {
	h := hmac.New(sha256.New, c.key[:])
	h.Write([]byte(user))
	h.Write([]byte{0})
	h.Write([]byte(password))
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// lookup returns the account if user logged in with password recently.
func (c *authCache) lookup(user, password string) (directory.Account, bool) {
	m := c.mac(user, password)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[user]
	if !ok || c.now().After(e.expires) || !hmac.Equal(e.mac[:], m[:]) {
		return directory.Account{}, false
	}
	return e.acct, true
}

func (c *authCache) store(user, password string, acct directory.Account) {
	m := c.mac(user, password)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) > 100_000 {
		now := c.now()
		for k, e := range c.entries {
			if now.After(e.expires) {
				delete(c.entries, k)
			}
		}
	}
	c.entries[user] = authEntry{mac: m, acct: acct, expires: c.now().Add(authCacheTTL)}
}
