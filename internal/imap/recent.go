package imap

import (
	"slices"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// IMAP4rev1 \Recent (RFC 3501 §2.3.2): a message is recent to exactly one
// session, the first read-write session of the mailbox to learn of it
// (as in Dovecot). The store hands out each UID once (ClaimRecent);
// EXAMINE shows what is unclaimed without claiming it. IMAP4rev2 dropped
// \Recent (RFC 9051 §E), so rev2 sessions neither see nor claim it.

// trackRecent claims the \Recent state of msgs, which are new to the
// session (ascending UIDs), and remembers which of them it got.
func (s *session) trackRecent(msgs []mailstore.Message) error {
	sel := s.sel
	if s.rev2 || len(msgs) == 0 {
		return nil
	}
	var upTo uint32 // 0: only read the mark
	if !sel.readOnly {
		upTo = msgs[len(msgs)-1].UID + 1
	}
	from, err := s.store.ClaimRecent(s.ctx, sel.owner, sel.info.ID, upTo)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if m.UID >= from {
			sel.recent[m.UID] = true
		}
	}
	return nil
}

// recentCount is the "* n RECENT" number: the session's recent messages
// still in its view. It forgets expunged ones.
func (sel *selected) recentCount() int {
	n := 0
	for uid := range sel.recent {
		if sel.index(uid) >= 0 {
			n++
		} else {
			delete(sel.recent, uid)
		}
	}
	return n
}

// withRecent is m with \Recent among its flags when it is recent to this
// session; every FETCH FLAGS goes through it.
func (sel *selected) withRecent(m mailstore.Message) mailstore.Message {
	if sel.recent[m.UID] {
		m.Flags = append(slices.Clip(m.Flags), `\Recent`)
	}
	return m
}
