package imap

import "github.com/rookery-mail/rookery/internal/mailstore"

// replaceFeature: REPLACE and UID REPLACE (RFC 8508): append a new
// version of a message, typically a draft, and expunge the old one in
// one command.
var replaceFeature = feature{
	caps: func(s *session) []string { return []string{"REPLACE"} },
	commands: map[string]commandSpec{
		"REPLACE":     {states: stateSelected, handle: handleReplace},
		"UID REPLACE": {states: stateSelected, handle: handleReplace},
	},
}

// handleReplace reads
// replace = "REPLACE" SP seq-number SP mailbox append-message (RFC 8508 §6).
// The new message is stored first; only then is the old one flagged
// \Deleted and expunged, so a failed append leaves it untouched (§3.3),
// and a failed expunge takes the new message back out.
func handleReplace(s *session, c *command) error {
	p := c.p
	if err := p.sp(); err != nil {
		return err
	}
	idx, err := s.replaceTarget(p, c.uid)
	if err != nil {
		return err
	}
	if err := p.sp(); err != nil {
		return err
	}
	name, err := s.mailboxArg(p)
	if err != nil {
		return err
	}
	msg, err := parseAppendMessage(p)
	if err != nil {
		return err
	}
	if err := p.end(); err != nil {
		return err
	}
	if idx < 0 {
		return errNo("NONEXISTENT", "No such message") // RFC 8508 §3.2
	}
	// RFC 8508 §3.4, RFC 4314: "t" and "e" on the source, "i" on the target.
	if err := s.sel.mayRemove(); err != nil {
		return err
	}
	dst, err := s.resolveFor(name, rightInsert)
	if err != nil {
		return withTryCreate(err)
	}
	msgs := []appendMsg{msg}
	if err := s.catenateAll(msgs); err != nil { // RFC 8508 §4: CATENATE may build it
		return err
	}
	if len(msgs[0].body) == 0 {
		return errNo("CANNOT", "Empty message")
	}
	old := s.sel.msgs[idx].UID
	uids, err := s.appendAll(dst, msgs)
	if err != nil {
		return withTryCreate(err)
	}
	if err := s.expungeOne(old); err != nil {
		if rbErr := s.rollbackAppend(dst, uids); rbErr != nil {
			s.log.Error("imap replace rollback failed", "user", s.user, "uids", uids, "err", rbErr)
		}
		return err
	}
	// RFC 8508 §3.1: APPENDUID goes in an untagged OK before the EXPUNGE.
	if err := s.writef("* OK [%s] Replacement Message ready", appendUIDCode(dst.info.UIDValidity, uids)); err != nil {
		return err
	}
	return s.reportExpunged(map[uint32]bool{old: true})
}

// replaceTarget reads the seq-number (or UID) of REPLACE and returns the
// message's index, -1 for a UID that does not exist. A sequence number
// out of range is BAD, as everywhere (RFC 3501 §9 seq-number).
func (s *session) replaceTarget(p *parser, uid bool) (int, error) {
	n := uint32(0)
	if !p.consume('*') {
		var err error
		if n, err = p.number(); err != nil || n == 0 {
			return 0, errSyntax("expected a message number")
		}
	}
	msgs := s.sel.msgs
	switch {
	case len(msgs) == 0:
		if uid {
			return -1, nil
		}
		return 0, errBad("", "Invalid sequence number")
	case n == 0: // "*"
		return len(msgs) - 1, nil
	case uid:
		return s.sel.index(n), nil
	case int(n) > len(msgs):
		return 0, errBad("", "Invalid sequence number")
	}
	return int(n) - 1, nil
}

// expungeOne removes one message of the selected mailbox as if it had
// been flagged \Deleted and UID EXPUNGEd (RFC 8508 §3.1), leaving other
// \Deleted messages alone.
func (s *session) expungeOne(uid uint32) error {
	owner, id := s.sel.owner, s.sel.info.ID
	if _, err := s.store.SetFlags(s.ctx, owner, id, []uint32{uid}, mailstore.FlagsAdd, []string{`\Deleted`}); err != nil {
		return err
	}
	_, err := s.store.Expunge(s.ctx, owner, id, []uint32{uid})
	return err
}
