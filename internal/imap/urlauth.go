package imap

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// urlAuthFeature advertises URLAUTH (RFC 4467): GENURLAUTH signs an IMAP
// URL of the user's own message so that someone else (the access
// identifier) may read it with URLFETCH, RESETKEY revokes those URLs.
// Only the INTERNAL mechanism exists: the token is an HMAC-SHA256 of the
// rump URL under the mailbox's access key, which the mailstore keeps.
// URLs name mailboxes of the user's personal namespace on this server.
var urlAuthFeature = feature{
	caps: func(s *session) []string { return []string{"URLAUTH"} },
	commands: map[string]commandSpec{
		"GENURLAUTH": {states: stateAuthOrSelect, handle: handleGenURLAuth},
		"URLFETCH":   {states: stateAuthOrSelect, handle: handleURLFetch},
		"RESETKEY":   {states: stateAuthOrSelect, handle: handleResetKey},
	},
}

// urlMechInternal is the one URLAUTH mechanism (RFC 4467 §7).
const urlMechInternal = "internal"

// urlAuthToken is the INTERNAL token of rump: hex HMAC-SHA256 under key,
// well over the 128 bits RFC 4467 §7 asks for.
func urlAuthToken(key []byte, rump string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(rump))
	return hex.EncodeToString(m.Sum(nil))
}

// validAccess reports whether access is an access identifier of RFC 4467
// §2.1: "authuser", "anonymous", "submit+" or "user+" and a user.
func validAccess(access string) bool {
	lower := strings.ToLower(access)
	if lower == "authuser" || lower == "anonymous" {
		return true
	}
	for _, p := range []string{"submit+", "user+"} {
		if strings.HasPrefix(lower, p) && len(access) > len(p) {
			return true
		}
	}
	return false
}

// urlRequester is who asks for a URLAUTH URL: an IMAP user, or the
// submission server acting for an authenticated user (BURL, RFC 4468).
type urlRequester struct {
	user   string
	submit bool
}

// allows reports whether access lets r read the URL (RFC 4467 §2.1).
// "anonymous" needs no login, which this server never offers, so it
// is as good as "authuser" here.
func (r urlRequester) allows(access string) bool {
	lower := strings.ToLower(access)
	switch {
	case lower == "authuser" || lower == "anonymous":
		return true
	case strings.HasPrefix(lower, "user+"):
		return !r.submit && strings.EqualFold(access[len("user+"):], r.user)
	case strings.HasPrefix(lower, "submit+"):
		return r.submit && strings.EqualFold(access[len("submit+"):], r.user)
	}
	return false
}

// handleGenURLAuth: GENURLAUTH 1*(SP url-rump SP mechanism) answers
// "* GENURLAUTH" with each URL signed (RFC 4467 §6.2). The URL must be
// this server's, name the user and a mailbox of theirs, and carry a rump
// ;URLAUTH=access; otherwise the command fails and nothing is signed.
func handleGenURLAuth(s *session, c *command) error {
	var out []string
	for {
		if err := c.p.sp(); err != nil {
			return err
		}
		raw, err := c.p.astring()
		if err != nil {
			return err
		}
		if err := c.p.sp(); err != nil {
			return err
		}
		if err := parseURLMech(c.p); err != nil {
			return err
		}
		u, err := parseIMAPURL(raw)
		switch {
		case err != nil:
			return errNo("", "Invalid IMAP URL: "+err.Error())
		case u.access == "" || u.token != "":
			return errNo("", "Not a rump URLAUTH URL (...;URLAUTH=access)")
		case !validAccess(u.access):
			return errNo("", "Unknown URLAUTH access identifier "+u.access)
		case u.host == "" || !strings.EqualFold(u.host, s.srv.opts.Hostname):
			return errNo("", "Not an absolute URL of this server")
		}
		if owner, err := s.accountName(u.user); err != nil || owner != s.user {
			return errNo("", "The URL must name the logged-in user")
		}
		box, err := s.store.Mailbox(s.ctx, s.user, u.mailbox)
		if err != nil {
			return err
		}
		key, err := s.store.URLAuthKey(s.ctx, s.user, box.ID)
		if err != nil {
			return err
		}
		out = append(out, s.quote(u.rump+":"+urlMechInternal+":"+urlAuthToken(key, u.rump)))
		if c.p.atEnd() {
			break
		}
	}
	return s.writef("* GENURLAUTH %s", strings.Join(out, " "))
}

// handleURLFetch: URLFETCH 1*(SP url) answers "* URLFETCH" with each URL
// and its data, or NIL when the URL is not valid for this user (RFC 4467
// §6.3): the command itself succeeds.
func handleURLFetch(s *session, c *command) error {
	var b bytes.Buffer
	b.WriteString("* URLFETCH")
	for {
		if err := c.p.sp(); err != nil {
			return err
		}
		raw, err := c.p.astring()
		if err != nil {
			return err
		}
		b.WriteByte(' ')
		b.WriteString(s.quote(raw))
		b.WriteByte(' ')
		data, err := s.fetchURLAuth(raw, urlRequester{user: s.user}, s.srv.opts.MaxLiteralSize)
		if err != nil {
			s.srv.log.Debug("urlfetch refused", "user", s.user, "err", err)
			b.WriteString("NIL")
		} else {
			writeLiteral(&b, data, false)
		}
		if c.p.atEnd() {
			break
		}
	}
	b.WriteString("\r\n")
	return s.write(b.Bytes())
}

// fetchURLAuth returns what a full URLAUTH URL names if its token is right
// and its access identifier admits r. The mailbox is the URL's user's, in
// the session's store (see mailboxRef on stores per node).
func (s *session) fetchURLAuth(raw string, r urlRequester, limit int64) ([]byte, error) {
	u, err := parseIMAPURL(raw)
	switch {
	case err != nil:
		return nil, errBadURL(raw, "Invalid IMAP URL: "+err.Error())
	case u.token == "" || !strings.EqualFold(u.mech, urlMechInternal):
		return nil, errBadURL(raw, "Not an INTERNAL URLAUTH URL")
	case u.user == "" || !strings.EqualFold(u.host, s.srv.opts.Hostname):
		return nil, errBadURL(raw, "Not a URL of this server")
	case !u.expire.IsZero() && time.Now().After(u.expire):
		return nil, errBadURL(raw, "URL expired")
	case !r.allows(u.access):
		return nil, errBadURL(raw, "Access identifier does not admit "+r.user)
	}
	want, err := hex.DecodeString(strings.ToLower(u.token))
	if err != nil {
		return nil, errBadURL(raw, "Malformed token")
	}
	owner, err := s.accountName(u.user)
	if err != nil {
		return nil, errBadURL(raw, "No such user")
	}
	box, err := s.store.Mailbox(s.ctx, owner, u.mailbox)
	if err != nil {
		return nil, errBadURL(raw, "No such mailbox")
	}
	key, err := s.store.URLAuthKey(s.ctx, owner, box.ID)
	if err != nil {
		return nil, err
	}
	got, _ := hex.DecodeString(urlAuthToken(key, u.rump))
	if !hmac.Equal(got, want) {
		return nil, errBadURL(raw, "Wrong or revoked token")
	}
	return s.readURL(raw, u, mailboxRef{owner: owner, store: s.store, info: box, rights: allRights}, limit)
}

// handleResetKey: RESETKEY [SP mailbox *(SP mechanism)] gives the mailbox
// (every mailbox of the user, without one) a new access key, so URLs
// signed before stop working (RFC 4467 §6.1).
func handleResetKey(s *session, c *command) error {
	var id int64
	if !c.p.atEnd() {
		if err := c.p.sp(); err != nil {
			return err
		}
		name, err := s.mailboxArg(c.p)
		if err != nil {
			return err
		}
		for !c.p.atEnd() {
			if err := c.p.sp(); err != nil {
				return err
			}
			if err := parseURLMech(c.p); err != nil {
				return err
			}
		}
		box, err := s.store.Mailbox(s.ctx, s.user, name)
		if err != nil {
			return err
		}
		id = box.ID
	}
	return s.store.ResetURLAuthKeys(s.ctx, s.user, id)
}

// parseURLMech reads a URLAUTH mechanism name; INTERNAL is the only one
// offered (RFC 4467 §7).
func parseURLMech(p *parser) error {
	mech, err := p.atom()
	if err != nil {
		return err
	}
	if !strings.EqualFold(mech, urlMechInternal) {
		return errNo("", "Unsupported URLAUTH mechanism "+mech+" (only INTERNAL)")
	}
	return nil
}
