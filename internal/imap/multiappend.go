package imap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// multiAppendFeature advertises MULTIAPPEND (RFC 3502): APPEND (in
// cmd_append.go) takes several messages and stores all or none of them.
var multiAppendFeature = feature{
	caps: func(s *session) []string { return []string{"MULTIAPPEND"} },
}

// appendMsg is one message of an APPEND: flags, date-time and content,
// in memory (body) or, when large, in a spool file.
type appendMsg struct {
	flags   []string
	date    time.Time // zero: now
	body    []byte
	spooled *spooledLiteral
	parts   []catPart // CATENATE (catenate.go): body is built from these
}

func (m appendMsg) size() int64 {
	if m.spooled != nil {
		return m.spooled.size
	}
	return int64(len(m.body))
}

func (m appendMsg) reader() io.Reader {
	if m.spooled != nil {
		return m.spooled.reader()
	}
	return bytes.NewReader(m.body)
}

// parseAppendMessage reads
// append-message = [SP flag-list] [SP date-time] SP (literal / utf8-literal)
// starting at the SP (RFC 3502 §6, RFC 6855 §4, RFC 3516 literal8).
func parseAppendMessage(p *parser) (appendMsg, error) {
	var m appendMsg
	if err := p.sp(); err != nil {
		return m, err
	}
	var err error
	if p.peek() == '(' {
		if m.flags, err = p.flagList(); err != nil {
			return m, err
		}
		if err := p.sp(); err != nil {
			return m, err
		}
	}
	if p.peek() == '"' {
		ds, err := p.quoted()
		if err != nil {
			return m, err
		}
		if m.date, err = time.Parse(dateTimeLayout, ds); err != nil {
			return m, errSyntax("invalid date-time %q", ds)
		}
		if err := p.sp(); err != nil {
			return m, err
		}
	}
	if c := p.peek(); c == 'C' || c == 'c' {
		// RFC 4469 §5: CATENATE (cat-part ...), resolved by catenateAll.
		if a, err := p.atom(); err != nil || !strings.EqualFold(a, "CATENATE") {
			return m, errSyntax("expected literal")
		}
		if err := p.sp(); err != nil {
			return m, err
		}
		m.parts, err = parseCatenate(p)
		return m, err
	}
	if p.peek() == 'U' || p.peek() == 'u' {
		// RFC 6855 §4: UTF8 (~{n}...)
		a, err := p.atom()
		if err != nil || !strings.EqualFold(a, "UTF8") {
			return m, errSyntax("expected literal")
		}
		if err := p.sp(); err != nil {
			return m, err
		}
		if err := p.expect('('); err != nil {
			return m, err
		}
		if p.peek() != '~' {
			return m, errSyntax("expected literal8")
		}
		if m.body, m.spooled, err = p.messageLiteral(); err != nil {
			return m, err
		}
		return m, p.expect(')')
	}
	m.body, m.spooled, err = p.messageLiteral() // literal or literal8 (RFC 3516)
	return m, err
}

// parseAppendMessages reads one or more append-messages to the end of the
// command. All are parsed and checked before anything is stored.
func parseAppendMessages(p *parser) ([]appendMsg, error) {
	var msgs []appendMsg
	for {
		m, err := parseAppendMessage(p)
		if err != nil {
			return nil, err
		}
		if m.size() == 0 && m.parts == nil {
			return nil, errNo("CANNOT", "Empty message")
		}
		msgs = append(msgs, m)
		if p.atEnd() {
			return msgs, nil
		}
	}
}

// appendAll stores msgs in mailbox ref in order and returns their UIDs.
// Flags the user has no right to set there are dropped (RFC 4314 §4, APPEND).
// The store has no multi-message append, so atomicity (RFC 3502 §6.3.11)
// is emulated: when one fails, those already added are flagged \Deleted
// and expunged again. Other sessions may briefly see them (EXISTS, then
// EXPUNGE), and a crash in between leaves them in place.
func (s *session) appendAll(ref mailboxRef, msgs []appendMsg) ([]uint32, error) {
	uids := make([]uint32, 0, len(msgs))
	for _, m := range msgs {
		uid, err := ref.store.Append(s.ctx, ref.owner, ref.info.ID, mailstore.NewMessage{
			Body:         m.reader(),
			Flags:        ref.rights.allowedFlags(m.flags),
			InternalDate: m.date,
		})
		if err != nil {
			if rbErr := s.rollbackAppend(ref, uids); rbErr != nil {
				s.log.Error("imap multiappend rollback failed", "user", s.user, "uids", uids, "err", rbErr)
			}
			return nil, err
		}
		uids = append(uids, uid)
	}
	return uids, nil
}

// rollbackAppend removes the messages appended so far. It runs even when
// the session is being cancelled, bounded by its own timeout.
func (s *session) rollbackAppend(ref mailboxRef, uids []uint32) error {
	if len(uids) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 30*time.Second)
	defer cancel()
	_, err1 := ref.store.SetFlags(ctx, ref.owner, ref.info.ID, uids, mailstore.FlagsAdd, []string{`\Deleted`})
	_, err2 := ref.store.Expunge(ctx, ref.owner, ref.info.ID, uids)
	return errors.Join(err1, err2)
}

// appendUIDCode is the APPENDUID response code (RFC 4315 §3), whose
// uid-set lists every message of a MULTIAPPEND in order (RFC 4315 §4).
func appendUIDCode(uidValidity uint32, uids []uint32) string {
	return fmt.Sprintf("APPENDUID %d %s", uidValidity, formatUIDSet(uids))
}
