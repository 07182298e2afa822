package imap

import "fmt"

// appendFeature: APPEND (RFC 3501 §6.3.11) with APPENDUID (RFC 4315),
// several messages at once (MULTIAPPEND, RFC 3502) and the UTF8 form of
// RFC 6855 §4. The literal was size-checked by readCommand
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
	// RFC 3502: one or more messages (multiappend.go).
	msgs, err := parseAppendMessages(p)
	if err != nil {
		return err
	}
	ref, err := s.resolveFor(name, rightInsert) // RFC 4314 §4
	if err != nil {
		return withTryCreate(err) // before any [BADURL], as Dovecot does
	}
	if err := s.catenateAll(msgs); err != nil {
		return err
	}
	uids, err := s.appendAll(ref, msgs)
	if err != nil {
		return withTryCreate(err)
	}
	c.ok(appendUIDCode(ref.info.UIDValidity, uids), "APPEND completed")
	return nil
}
