package imap

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// appendFeature: APPEND (RFC 3501 §6.3.11) with APPENDUID (RFC 4315) and
// the UTF8 form of RFC 6855 §4. The literal was size-checked by readCommand
// ([TOOBIG] before the continuation, RFC 7889 / RFC 4469 style).
var appendFeature = feature{
	caps: func(s *session) []string {
		return []string{"UIDPLUS", fmt.Sprintf("APPENDLIMIT=%d", s.srv.opts.MaxLiteralSize)}
	},
	commands: map[string]commandSpec{
		"APPEND": {states: stateAuthOrSelect, handle: handleAppend},
	},
}

// dateTimeLayout is RFC 3501 date-time without the quotes; the day may be
// space-padded.
const dateTimeLayout = "_2-Jan-2006 15:04:05 -0700"

func handleAppend(s *session, c *command) error {
	p := c.p
	if err := p.sp(); err != nil {
		return err
	}
	name, err := s.mailboxArg(p)
	if err != nil {
		return err
	}
	if err := p.sp(); err != nil {
		return err
	}
	var flags []string
	if p.peek() == '(' {
		if flags, err = p.flagList(); err != nil {
			return err
		}
		if err := p.sp(); err != nil {
			return err
		}
	}
	var date time.Time
	if p.peek() == '"' {
		ds, err := p.quoted()
		if err != nil {
			return err
		}
		if date, err = time.Parse(dateTimeLayout, ds); err != nil {
			return errSyntax("invalid date-time %q", ds)
		}
		if err := p.sp(); err != nil {
			return err
		}
	}
	var body []byte
	if p.peek() == 'U' || p.peek() == 'u' {
		// RFC 6855 §4: UTF8 (~{n}...)
		a, err := p.atom()
		if err != nil || !strings.EqualFold(a, "UTF8") {
			return errSyntax("expected literal")
		}
		if err := p.sp(); err != nil {
			return err
		}
		if err := p.expect('('); err != nil {
			return err
		}
		if err := p.expect('~'); err != nil {
			return err
		}
		if body, err = p.literal(); err != nil {
			return err
		}
		if err := p.expect(')'); err != nil {
			return err
		}
	} else {
		p.consume('~') // literal8 (RFC 3516) is accepted like a literal
		if body, err = p.literal(); err != nil {
			return err
		}
	}
	if err := p.end(); err != nil {
		return err
	}
	if len(body) == 0 {
		return errNo("CANNOT", "Empty message")
	}
	info, err := s.store.Mailbox(s.ctx, s.user, name)
	if err != nil {
		return withTryCreate(err)
	}
	uid, err := s.store.Append(s.ctx, s.user, info.ID, mailstore.NewMessage{
		Body:         bytes.NewReader(body),
		Flags:        flags,
		InternalDate: date,
	})
	if err != nil {
		return withTryCreate(err)
	}
	c.ok(fmt.Sprintf("APPENDUID %d %d", info.UIDValidity, uid), "APPEND completed")
	return nil
}
