package imap

import (
	"bytes"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rookery-mail/rookery/internal/imap/imapmsg"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

// catenateFeature advertises CATENATE (RFC 4469): APPEND and REPLACE
// build a message from text literals and IMAP URLs (RFC 5092) of messages
// or parts in mailboxes this user may read on this server.
var catenateFeature = feature{
	caps: func(s *session) []string { return []string{"CATENATE"} },
}

// catPart is one cat-part: a text literal, or a URL when isURL is set.
type catPart struct {
	text  []byte
	url   string
	isURL bool
}

// parseCatenate reads "(" cat-part *(SP cat-part) ")" after "CATENATE SP",
// cat-part = "TEXT" SP literal / "URL" SP astring (RFC 4469 §5); a TEXT
// may be a literal8 (RFC 3516 §4.4).
func parseCatenate(p *parser) ([]catPart, error) {
	var parts []catPart
	err := p.list(func() error {
		w, err := p.atom()
		if err != nil {
			return err
		}
		if err := p.sp(); err != nil {
			return err
		}
		switch strings.ToUpper(w) {
		case "TEXT":
			t, err := p.literal8()
			parts = append(parts, catPart{text: t})
			return err
		case "URL":
			u, err := p.astring()
			parts = append(parts, catPart{url: u, isURL: true})
			return err
		}
		return errSyntax("unknown CATENATE part %q", w)
	})
	if err == nil && len(parts) == 0 {
		err = errSyntax("empty CATENATE")
	}
	return parts, err
}

// catenateAll replaces the parts of each CATENATE message by the message
// they make. A URL that cannot be read is NO [BADURL] and a result over
// the APPEND limit NO [TOOBIG] (RFC 4469 §6), before anything is stored.
func (s *session) catenateAll(msgs []appendMsg) error {
	limit := s.srv.opts.MaxLiteralSize
	for i := range msgs {
		m := &msgs[i]
		if m.parts == nil {
			continue
		}
		var b bytes.Buffer
		for _, part := range m.parts {
			data := part.text
			if part.isURL {
				var err error
				if data, err = s.fetchURL(part.url, limit-int64(b.Len())); err != nil {
					return err
				}
			}
			if int64(b.Len())+int64(len(data)) > limit {
				return errNo("TOOBIG", "Message too large")
			}
			b.Write(data)
		}
		m.body, m.parts = b.Bytes(), nil
		if len(m.body) == 0 {
			return errNo("CANNOT", "Empty message")
		}
	}
	return nil
}

// errBadURL is the NO [BADURL url] of RFC 4469 §6.
func errBadURL(raw, why string) error {
	code := strings.Map(func(r rune) rune {
		if r == ']' || r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, raw)
	return errNo("BADURL "+code, why)
}

// imapURL is a parsed local IMAP URL naming a message or a part of one:
// imap://[user@]host/mailbox[;UIDVALIDITY=n]/;UID=n[/;SECTION=s][/;PARTIAL=o[.l]]
// or the same from the first "/" (RFC 5092 §6).
type imapURL struct {
	user, host  string
	mailbox     string
	uidValidity uint32
	uid         uint32
	section     string
	hasPartial  bool
	offset      uint32
	length      uint32 // 0: to the end

	// The URLAUTH parts (RFC 4467 §2.1): ;EXPIRE=date-time, then
	// ;URLAUTH=access, then :mechanism:token unless it is a rump URL.
	expire      time.Time
	access      string // "" when the URL has no ;URLAUTH=
	mech, token string
	rump        string // the URL up to and with the access identifier
}

// parseIMAPURL parses raw, with its URLAUTH parts if any. Search URLs and
// other URLs not naming a message fail like a malformed URL.
func parseIMAPURL(raw string) (imapURL, error) {
	var u imapURL
	rest := raw
	if i := strings.Index(strings.ToUpper(rest), ";URLAUTH="); i >= 0 {
		auth := rest[i+len(";URLAUTH="):]
		parts := strings.Split(auth, ":")
		if parts[0] == "" || (len(parts) != 1 && len(parts) != 3) {
			return u, errors.New("bad URLAUTH")
		}
		u.access = parts[0]
		u.rump = rest[:i+len(";URLAUTH=")+len(u.access)]
		if len(parts) == 3 {
			u.mech, u.token = parts[1], parts[2]
		}
		rest = rest[:i]
		if j := strings.Index(strings.ToUpper(rest), ";EXPIRE="); j >= 0 {
			t, err := time.Parse(time.RFC3339, rest[j+len(";EXPIRE="):])
			if err != nil {
				return u, errors.New("bad EXPIRE")
			}
			u.expire, rest = t, rest[:j]
		}
	}
	if len(rest) >= 7 && strings.EqualFold(rest[:7], "imap://") {
		rest = rest[7:]
		slash := strings.IndexByte(rest, '/')
		if slash < 0 {
			return u, errors.New("no mailbox")
		}
		auth := rest[:slash]
		rest = rest[slash:]
		if at := strings.LastIndexByte(auth, '@'); at >= 0 {
			userinfo := auth[:at]
			if i := strings.IndexByte(userinfo, ';'); i >= 0 {
				userinfo = userinfo[:i] // ;AUTH=... says how to log in; we are logged in
			}
			user, err := url.PathUnescape(userinfo)
			if err != nil {
				return u, err
			}
			u.user, auth = user, auth[at+1:]
		}
		if i := strings.LastIndexByte(auth, ':'); i >= 0 && !strings.Contains(auth[i:], "]") {
			auth = auth[:i]
		}
		u.host = auth
	}
	if !strings.HasPrefix(rest, "/") {
		return u, errors.New("not an absolute IMAP URL")
	}
	segs := strings.Split(rest[1:], "/;")
	mbox := segs[0]
	if i := strings.LastIndex(strings.ToUpper(mbox), ";UIDVALIDITY="); i >= 0 {
		n, err := strconv.ParseUint(mbox[i+len(";UIDVALIDITY="):], 10, 32)
		if err != nil || n == 0 {
			return u, errors.New("bad UIDVALIDITY")
		}
		u.uidValidity, mbox = uint32(n), mbox[:i]
	}
	name, err := url.PathUnescape(mbox)
	if err != nil || name == "" {
		return u, errors.New("bad mailbox")
	}
	u.mailbox = name
	for _, seg := range segs[1:] {
		key, val, ok := strings.Cut(seg, "=")
		if !ok {
			return u, errors.New("bad URL part")
		}
		switch strings.ToUpper(key) {
		case "UID":
			n, err := strconv.ParseUint(val, 10, 32)
			if err != nil || n == 0 || u.uid != 0 {
				return u, errors.New("bad UID")
			}
			u.uid = uint32(n)
		case "SECTION":
			if u.uid == 0 || u.section != "" {
				return u, errors.New("SECTION without UID")
			}
			if u.section, err = url.PathUnescape(val); err != nil {
				return u, err
			}
		case "PARTIAL":
			off, length, _ := strings.Cut(val, ".")
			o, err1 := strconv.ParseUint(off, 10, 32)
			l, err2 := strconv.ParseUint(length, 10, 32)
			if u.uid == 0 || err1 != nil || (length != "" && (err2 != nil || l == 0)) {
				return u, errors.New("bad PARTIAL")
			}
			u.hasPartial, u.offset, u.length = true, uint32(o), uint32(l)
		default: // a search URL...
			return u, errors.New("unsupported URL part " + key)
		}
	}
	if u.uid == 0 {
		return u, errors.New("no UID")
	}
	return u, nil
}

// fetchURL returns the bytes a local IMAP URL names, reading at most
// limit bytes of the message. The URL must be this server's and this
// user's (or name no user), and the user must have the read right on the
// mailbox (RFC 4469 §5, RFC 4314), or it must be a valid URLAUTH URL.
func (s *session) fetchURL(raw string, limit int64) ([]byte, error) {
	u, err := parseIMAPURL(raw)
	if err != nil {
		return nil, errBadURL(raw, "Invalid or unsupported IMAP URL: "+err.Error())
	}
	if u.access != "" {
		// A URLAUTH URL may name another user's message (RFC 4469 §5):
		// it is read as URLFETCH would read it for this user.
		return s.fetchURLAuth(raw, urlRequester{user: s.user}, limit)
	}
	if u.host != "" && !strings.EqualFold(u.host, s.srv.opts.Hostname) {
		return nil, errBadURL(raw, "Not a URL of this server")
	}
	if u.user != "" && !strings.EqualFold(u.user, s.user) {
		return nil, errBadURL(raw, "Not a URL of this user")
	}
	ref, err := s.resolveFor(u.mailbox, rightRead)
	if err != nil {
		return nil, errBadURL(raw, "No such mailbox or no right to read it")
	}
	return s.readURL(raw, u, ref, limit)
}

// readURL returns the message, section or partial u names in ref's
// mailbox, reading at most limit bytes of the message; NO [BADURL] when
// there is no such message or section.
func (s *session) readURL(raw string, u imapURL, ref mailboxRef, limit int64) ([]byte, error) {
	if u.uidValidity != 0 && u.uidValidity != ref.info.UIDValidity {
		return nil, errBadURL(raw, "UIDVALIDITY has changed")
	}
	msgs, err := ref.store.Messages(s.ctx, ref.owner, ref.info.ID)
	if err != nil {
		return nil, err
	}
	var m *mailstore.Message
	for i := range msgs {
		if msgs[i].UID == u.uid {
			m = &msgs[i]
			break
		}
	}
	if m == nil {
		return nil, errBadURL(raw, "No such message")
	}
	if u.section == "" && !u.hasPartial && m.Size > limit {
		return nil, errNo("TOOBIG", "Message too large")
	}
	data, err := s.readBlob(*m) // every mailbox ref shares the session's store
	if err != nil {
		return nil, err
	}
	if u.section != "" {
		p := &parser{b: []byte(u.section)}
		sec, _, err := parseSection(p)
		if err != nil || !p.atEnd() {
			return nil, errBadURL(raw, "Invalid SECTION")
		}
		if data = imapmsg.Parse(data).Section(sec); data == nil {
			return nil, errBadURL(raw, "No such section")
		}
	}
	if u.hasPartial {
		length := u.length
		if length == 0 {
			length = ^uint32(0)
		}
		data = imapmsg.Partial(data, u.offset, length)
	}
	return data, nil
}
