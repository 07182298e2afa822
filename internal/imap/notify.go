package imap

import (
	"strconv"
	"strings"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// notifyFeature: NOTIFY (RFC 5465). The client names the mailboxes and
// events it wants to hear about; the session reports them while it waits
// for the next command (waitNotify) and during IDLE, not only in the
// responses to commands. Changes are found by comparing the account's
// mailbox list and counters with the last look, on each signal of the
// store's AnyMailbox watch, so bursts coalesce and nothing needs queueing:
// a notification cannot overflow, only a failing store ends NOTIFY with
// [NOTIFICATIONOVERFLOW]. Only the user's own mailboxes are watched.
var notifyFeature = feature{
	caps: func(s *session) []string { return []string{"NOTIFY"} },
	commands: map[string]commandSpec{
		"NOTIFY": {states: stateAuthOrSelect, handle: handleNotify},
	},
}

// notifyState is an active NOTIFY SET.
type notifyState struct {
	spec   *notifySpec
	watch  <-chan struct{}
	cancel func()
	boxes  map[int64]notifyBox // by mailbox ID, as last reported
}

// notifyBox is what the client was last told (or would have been) of a mailbox.
type notifyBox struct {
	name       string
	subscribed bool
	modseq     uint64
	counted    bool // uidNext and messages are known
	uidNext    uint32
	messages   uint32
}

func handleNotify(s *session, c *command) error {
	spec, err := parseNotify(c.p, s.decodeMailbox)
	if err != nil {
		return err
	}
	s.stopNotify()
	if spec == nil {
		return nil
	}
	ch, cancel := s.store.Watch(s.user, mailstore.AnyMailbox)
	s.notify = &notifyState{spec: spec, watch: ch, cancel: cancel, boxes: map[int64]notifyBox{}}
	if err := s.notifyScan(true); err != nil {
		s.stopNotify() // a failed NOTIFY SET leaves none active
		return err
	}
	return nil
}

// stopNotify ends the active NOTIFY SET, if any.
func (s *session) stopNotify() {
	if s.notify != nil {
		s.notify.cancel()
		s.notify = nil
	}
}

// eventsFor is the union of the events of the groups matching a mailbox
// of the user.
func (n *notifyState) eventsFor(name string, subscribed bool) notifyEvent {
	var ev notifyEvent
	for _, g := range n.spec.others {
		match := false
		switch g.filter {
		case filterInboxes:
			match = name == mailstore.Inbox
		case filterPersonal:
			match = true
		case filterSubscribed:
			match = subscribed
		case filterSubtree:
			for _, root := range g.names {
				match = match || name == root || strings.HasPrefix(name, root+mailstore.Separator)
			}
		case filterMailboxes:
			for _, n := range g.names {
				match = match || name == n
			}
		}
		if match {
			ev |= g.events
		}
	}
	return ev
}

// notifyUpdate reports what changed since the last look: the selected
// mailbox as usual responses when NOTIFY asked for it, others by scan.
// A store failure ends NOTIFY with [NOTIFICATIONOVERFLOW] (RFC 5465 §5.8):
// the client must then find out for itself.
func (s *session) notifyUpdate() error {
	n := s.notify
	if n == nil {
		return nil
	}
	if sel := n.spec.selected; sel != nil && sel.events&evMessage != 0 && s.sel != nil {
		before := s.sel.maxUID()
		if err := s.syncAll(sel.filter == filterSelected); err != nil {
			return s.notifyOverflow(err)
		}
		if s.logout {
			return nil
		}
		if err := s.notifyFetchNew(before); err != nil {
			return s.notifyOverflow(err)
		}
	}
	if err := s.notifyScan(false); err != nil {
		return s.notifyOverflow(err)
	}
	return nil
}

// notifyFetchNew sends the MessageNew fetch attributes of the selected
// mailbox's messages above UID after (RFC 5465 §5.2).
func (s *session) notifyFetchNew(after uint32) error {
	fetch := s.notify.spec.fetch
	if len(fetch) == 0 {
		return nil
	}
	var idx []int
	for i := len(s.sel.msgs) - 1; i >= 0 && s.sel.msgs[i].UID > after; i-- {
		idx = append([]int{i}, idx...)
	}
	return s.writeFetch(idx, fetch, nil)
}

func (s *session) notifyOverflow(err error) error {
	s.log.Warn("imap notify failed; stopping NOTIFY", "user", s.user, "err", err)
	s.stopNotify()
	return s.writef("* OK [NOTIFICATIONOVERFLOW] Notifications stopped, please resynchronize")
}

// notifyScan compares the user's mailboxes with the last look and sends
// LIST for MailboxName and SubscriptionChange, STATUS for message events.
// initial records the first look, sending STATUS only for NOTIFY SET STATUS.
func (s *session) notifyScan(initial bool) error {
	n := s.notify
	boxes, err := s.store.Mailboxes(s.ctx, s.user)
	if err != nil {
		return err
	}
	present := make(map[int64]bool, len(boxes))
	for _, b := range boxes {
		present[b.ID] = true
		old, known := n.boxes[b.ID]
		ev := n.eventsFor(b.Name, b.Subscribed)
		cur := notifyBox{name: b.Name, subscribed: b.Subscribed, modseq: b.HighestModSeq}
		if !initial {
			if err := s.notifyNames(b, old, known, ev|n.eventsFor(old.name, old.subscribed)); err != nil {
				return err
			}
		}
		if known {
			cur.counted, cur.uidNext, cur.messages = old.counted, old.uidNext, old.messages
		}
		selected := s.sel != nil && s.sel.owner == s.user && s.sel.info.ID == b.ID
		if ev&evMessage != 0 && !selected && (!cur.counted || cur.modseq != old.modseq) {
			st, err := s.store.Status(s.ctx, s.user, b.ID)
			if err != nil {
				return err
			}
			var send bool
			switch {
			case initial:
				send = n.spec.status
			case !cur.counted:
				// Created or newly matched (subscribed, renamed into a
				// subtree) since the last look: the client knows nothing
				// of its messages, which may have arrived before this look.
				send = st.Messages > 0 && ev&evMessageNew != 0
			default:
				added := st.UIDNext != cur.uidNext
				expunged := st.Messages < cur.messages+(st.UIDNext-cur.uidNext)
				send = (added || expunged) && ev&evMessageNew != 0 || !added && !expunged && ev&evFlagChange != 0
			}
			cur.counted, cur.uidNext, cur.messages = true, st.UIDNext, st.Messages
			if send {
				if err := s.notifyStatus(st); err != nil {
					return err
				}
			}
		}
		n.boxes[b.ID] = cur
	}
	for id, old := range n.boxes {
		if present[id] {
			continue
		}
		delete(n.boxes, id)
		if n.eventsFor(old.name, old.subscribed)&evMailboxName != 0 {
			if err := s.writef(`* LIST (\NonExistent) "%s" %s`, mailstore.Separator, s.mailboxName(old.name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// notifyNames sends LIST for a created or renamed mailbox (MailboxName,
// RFC 5465 §5.4, with OLDNAME from RFC 5258 §3 for a rename) and for a
// changed subscription (SubscriptionChange, §5.5).
func (s *session) notifyNames(b mailstore.MailboxInfo, old notifyBox, known bool, ev notifyEvent) error {
	attrs := ""
	if b.Subscribed {
		attrs = `\Subscribed`
	}
	switch {
	case !known && ev&evMailboxName != 0:
		return s.writef(`* LIST (%s) "%s" %s`, attrs, mailstore.Separator, s.mailboxName(b.Name))
	case known && old.name != b.Name && ev&evMailboxName != 0:
		return s.writef(`* LIST (%s) "%s" %s ("OLDNAME" (%s))`, attrs, mailstore.Separator,
			s.mailboxName(b.Name), s.mailboxName(old.name))
	case known && old.subscribed != b.Subscribed && ev&evSubscriptionChange != 0:
		return s.writef(`* LIST (%s) "%s" %s`, attrs, mailstore.Separator, s.mailboxName(b.Name))
	}
	return nil
}

// notifyStatus is the STATUS a message event in a mailbox other than the
// selected one gets (RFC 5465 §5.2, §5.3), as Dovecot sends it.
func (s *session) notifyStatus(st mailstore.Status) error {
	extra := ""
	if s.condstore {
		extra = " HIGHESTMODSEQ " + strconv.FormatUint(st.HighestModSeq, 10)
	}
	return s.writef("* STATUS %s (MESSAGES %d UIDNEXT %d UIDVALIDITY %d UNSEEN %d%s)",
		s.mailboxName(st.Name), st.Messages, st.UIDNext, st.UIDValidity, st.Unseen, extra)
}

// waitNotify reports NOTIFY events until the client sends something. The
// peeking goroutine only reads s.br and ends once a byte is there (or the
// connection fails), so readCommand then owns s.br alone; all writes stay
// on this goroutine.
func (s *session) waitNotify() {
	ready := make(chan struct{})
	go func() {
		s.br.Peek(1) // an error is readCommand's to report
		close(ready)
	}()
	poll := time.NewTicker(s.srv.watchPoll)
	defer poll.Stop()
	for s.notify != nil {
		var selWatch <-chan struct{}
		if s.sel != nil {
			selWatch = s.sel.watch
		}
		select {
		case <-ready:
			return
		case <-s.notify.watch:
		case <-selWatch:
		case <-poll.C:
		}
		if err := s.notifyUpdate(); err != nil {
			s.log.Warn("imap notify", "user", s.user, "err", err)
		}
		if err := s.flush(); err != nil || s.logout {
			// A dead connection, or the selected mailbox went away and
			// BYE was sent: closing ends the peek and then the session.
			s.conn().Close()
			break
		}
	}
	<-ready
}
