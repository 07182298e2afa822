package imap

import (
	"errors"
	"slices"
	"sort"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// selected is the session's view of its selected mailbox: the message
// list that defines sequence numbers, kept in step with the store through
// Changes since the last MODSEQ the client was told about.
//
// The mailbox may be another account's (shared.go): store calls on it use
// owner, and rights bound what the session may do. The \Seen flag is
// stored once per message, so all users of a shared mailbox share it.
type selected struct {
	owner    string
	rights   rights
	info     mailstore.MailboxInfo
	readOnly bool
	msgs     []mailstore.Message // seq-1 → message, ascending UID
	modseq   uint64              // changes up to here are reflected in msgs
	// pendingExpunge holds UIDs expunged in the store but not yet reported,
	// because EXPUNGE may not be sent during FETCH/STORE/SEARCH.
	pendingExpunge map[uint32]bool
	// flags is the FLAGS list last sent: every keyword in msgs is in it.
	flags       []string
	recent      map[uint32]bool // UIDs \Recent to this session (recent.go)
	watch       <-chan struct{}
	cancelWatch func()
}

// index returns the position of uid in msgs, or -1.
func (sel *selected) index(uid uint32) int {
	i := sort.Search(len(sel.msgs), func(i int) bool { return sel.msgs[i].UID >= uid })
	if i < len(sel.msgs) && sel.msgs[i].UID == uid {
		return i
	}
	return -1
}

func (sel *selected) maxUID() uint32 {
	if len(sel.msgs) == 0 {
		return 0
	}
	return sel.msgs[len(sel.msgs)-1].UID
}

func (s *session) closeSelected() {
	s.searchRes = nil // RFC 5182 §2.1
	if s.sel != nil {
		s.sel.cancelWatch()
		s.sel = nil
	}
	if s.state == stateSelected {
		s.state = stateAuth
	}
}

// syncSelected reports what changed in the selected mailbox since the
// client last heard: FETCH FLAGS for flag changes (others' changes; our
// own were reported by STORE), EXPUNGE when allowed, EXISTS for growth.
func (s *session) syncSelected(allowExpunge bool) error {
	sel := s.sel
	if sel == nil {
		return nil
	}
	readable, err := s.refreshRights()
	if err != nil {
		return err
	}
	if !readable {
		// Like a deletion: the session cannot go on reading it.
		s.writef("* BYE [UNAVAILABLE] Access to the selected mailbox was revoked")
		s.logout = true
		return nil
	}
	ch, err := s.store.Changes(s.ctx, sel.owner, sel.info.ID, sel.modseq)
	if errors.Is(err, mailstore.ErrNoMailbox) {
		s.writef("* BYE [UNAVAILABLE] Selected mailbox was deleted")
		s.logout = true
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.announceKeywords(ch.Updated); err != nil {
		return err
	}
	var added []mailstore.Message
	for _, uid := range ch.Expunged {
		if sel.index(uid) >= 0 {
			sel.pendingExpunge[uid] = true
		}
	}
	for _, m := range ch.Updated {
		i := sel.index(m.UID)
		switch {
		case i >= 0:
			old := sel.msgs[i]
			if m.ModSeq <= old.ModSeq {
				continue
			}
			sel.msgs[i] = m
			if !slices.Equal(old.Flags, m.Flags) && !sel.pendingExpunge[m.UID] {
				if err := s.writeFlagsUpdate(i+1, m); err != nil {
					return err
				}
			}
		case m.UID > sel.maxUID():
			sel.msgs = append(sel.msgs, m)
			added = append(added, m)
		default:
			// Older than our newest and unknown: expunged by this session.
		}
	}
	if allowExpunge && len(sel.pendingExpunge) > 0 {
		if err := s.reportExpunged(sel.pendingExpunge); err != nil {
			return err
		}
		clear(sel.pendingExpunge)
	}
	if len(added) > 0 {
		if err := s.trackRecent(added); err != nil {
			return err
		}
		if err := s.writef("* %d EXISTS", len(sel.msgs)); err != nil {
			return err
		}
		if !s.rev2 {
			// RFC 3501 §7.3.2: the RECENT count changes with new mail.
			if err := s.writef("* %d RECENT", sel.recentCount()); err != nil {
				return err
			}
		}
	}
	if ch.HighestModSeq > sel.modseq {
		sel.modseq = ch.HighestModSeq
	}
	return nil
}

// reportExpunged removes the UIDs from the message list, sending
// "* n EXPUNGE" from the highest sequence number down, so each number is
// valid both before and after the earlier ones (RFC 3501 §7.4.1).
func (s *session) reportExpunged(uids map[uint32]bool) error {
	sel := s.sel
	if s.qresync {
		return s.reportVanished(uids)
	}
	for i := len(sel.msgs) - 1; i >= 0; i-- {
		if !uids[sel.msgs[i].UID] {
			continue
		}
		if err := s.writef("* %d EXPUNGE", i+1); err != nil {
			return err
		}
		sel.msgs = slices.Delete(sel.msgs, i, i+1)
	}
	return nil
}

// resolveSet turns a sequence set or UID set into indexes into sel.msgs.
// Sequence numbers must exist (BAD otherwise); UIDs that do not exist are
// ignored (RFC 3501 §6.4.8).
func (s *session) resolveSet(set seqSet, uid bool) ([]int, error) {
	sel := s.sel
	if set.saved {
		// RFC 5182 §2.1: "$" names the same messages in UID and
		// sequence-number commands; expunged ones are gone.
		var idx []int
		for _, u := range s.searchRes {
			if i := sel.index(u); i >= 0 {
				idx = append(idx, i)
			}
		}
		return idx, nil
	}
	if uid {
		var idx []int
		maxUID := sel.maxUID()
		for i, m := range sel.msgs {
			if set.containsUID(m.UID, maxUID) {
				idx = append(idx, i)
			}
		}
		return idx, nil
	}
	nums, ok := set.seqNums(uint32(len(sel.msgs)))
	if !ok {
		return nil, errBad("", "Invalid sequence number")
	}
	idx := make([]int, len(nums))
	for i, n := range nums {
		idx[i] = int(n) - 1
	}
	return idx, nil
}
