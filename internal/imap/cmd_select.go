package imap

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// selectFeature: SELECT, EXAMINE, CLOSE, CHECK (RFC 3501 §6.3.1-2,
// §6.4.1-2) and UNSELECT (RFC 3691).
var selectFeature = feature{
	caps: func(s *session) []string { return []string{"UNSELECT"} },
	commands: map[string]commandSpec{
		"SELECT":   {states: stateAuthOrSelect, handle: handleSelect},
		"EXAMINE":  {states: stateAuthOrSelect, handle: handleExamine},
		"CLOSE":    {states: stateSelected, handle: handleClose},
		"UNSELECT": {states: stateSelected, handle: handleUnselect},
		"CHECK":    {states: stateSelected, handle: handleNoop},
	},
}

func handleSelect(s *session, c *command) error  { return s.selectMailbox(c, false) }
func handleExamine(s *session, c *command) error { return s.selectMailbox(c, true) }

func (s *session) selectMailbox(c *command, readOnly bool) error {
	if err := c.p.sp(); err != nil {
		return err
	}
	name, err := s.mailboxArg(c.p)
	if err != nil {
		return err
	}
	params, err := parseSelectParams(c.p)
	if err != nil {
		return err
	}
	if params.qresync != nil && !s.qresync {
		return errBad("", "QRESYNC is not enabled") // RFC 7162 §3.2.5
	}
	if params.condstore {
		s.condstore = true // RFC 7162 §3.1.8; HIGHESTMODSEQ follows anyway
	}
	// RFC 3501 §6.3.1: a failed SELECT leaves no mailbox selected.
	if s.sel != nil && (s.rev2 || s.qresync) {
		// RFC 9051 §6.3.2, RFC 7162 §3.2.11: tell where the old
		// mailbox's responses end.
		if err := s.writef("* OK [CLOSED] Previous mailbox closed"); err != nil {
			return err
		}
	}
	s.closeSelected()
	// Read the counters before the messages: anything that changes in
	// between is reported again by the next Changes and recognised by MODSEQ.
	ref, err := s.resolveFor(name, rightRead)
	if err != nil {
		return err
	}
	info := ref.info
	// RFC 4314 §4: without any of "s w i t e" SELECT opens read-only.
	readOnly = readOnly || ref.rights&writeRights == 0
	msgs, err := ref.store.Messages(s.ctx, ref.owner, info.ID)
	if err != nil {
		return err
	}
	watch, cancel := ref.store.Watch(ref.owner, info.ID)
	s.sel = &selected{
		owner:          ref.owner,
		rights:         ref.rights,
		info:           info,
		readOnly:       readOnly,
		msgs:           msgs,
		modseq:         info.HighestModSeq,
		pendingExpunge: make(map[uint32]bool),
		watch:          watch,
		cancelWatch:    cancel,
		flags:          mailboxFlags(nil, msgs),
		recent:         make(map[uint32]bool),
	}
	s.state = stateSelected
	if err := s.trackRecent(msgs); err != nil {
		s.closeSelected()
		return err
	}

	var b strings.Builder
	s.sel.writeFlagsResponses(&b)
	fmt.Fprintf(&b, "* %d EXISTS\r\n", len(msgs))
	if s.rev2 {
		// RFC 9051 §6.3.2: LIST is required, RECENT and UNSEEN are gone.
		fmt.Fprintf(&b, "* LIST () \"%s\" %s\r\n", mailstore.Separator, s.mailboxName(s.clientName(ref.owner, info.Name)))
	} else {
		fmt.Fprintf(&b, "* %d RECENT\r\n", s.sel.recentCount())
		for i, m := range msgs {
			if !slices.Contains(m.Flags, `\Seen`) {
				fmt.Fprintf(&b, "* OK [UNSEEN %d] First unseen\r\n", i+1)
				break
			}
		}
	}
	fmt.Fprintf(&b, "* OK [UIDVALIDITY %d] UIDs valid\r\n", info.UIDValidity)
	fmt.Fprintf(&b, "* OK [UIDNEXT %d] Predicted next UID\r\n", info.UIDNext)
	// RFC 7162 §3.1.2.1: every mailbox has persistent MODSEQs, so every
	// SELECT reports HIGHESTMODSEQ, CONDSTORE enabled or not.
	fmt.Fprintf(&b, "* OK [HIGHESTMODSEQ %d] Highest\r\n", info.HighestModSeq)
	fmt.Fprintf(&b, "* OK [%s] Mailbox id\r\n", mailboxIDCode(info)) // RFC 8474 §4.2
	if err := s.write([]byte(b.String())); err != nil {
		return err
	}
	if params.qresync != nil {
		if err := s.resyncSelected(params.qresync); err != nil {
			return err
		}
	}
	if readOnly {
		c.ok("READ-ONLY", "EXAMINE completed")
	} else {
		c.ok("READ-WRITE", "SELECT completed")
	}
	return nil
}

// RFC 3501 §6.4.2: CLOSE expunges silently when read-write.
func handleClose(s *session, c *command) error {
	if err := c.p.end(); err != nil {
		return err
	}
	sel := s.sel
	s.closeSelected()
	// RFC 4314 §4: CLOSE expunges only with "e", and fails silently without.
	if !sel.readOnly && sel.rights.has(rightExpunge) {
		if _, err := s.store.Expunge(s.ctx, sel.owner, sel.info.ID, nil); err != nil {
			return err
		}
	}
	return nil
}

func handleUnselect(s *session, c *command) error {
	if err := c.p.end(); err != nil {
		return err
	}
	s.closeSelected()
	return nil
}
