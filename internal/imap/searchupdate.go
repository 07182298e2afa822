package imap

import (
	"fmt"
	"slices"
	"strings"
)

// contextFeature: CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 §4): the
// CONTEXT and UPDATE return options of SEARCH and SORT (parseReturnList),
// PARTIAL (partial.go) and CANCELUPDATE. With UPDATE the server keeps the
// search alive and tells the client, in unsolicited ESEARCH responses,
// which messages enter (ADDTO) or leave (REMOVEFROM) its result.
var contextFeature = feature{
	caps: func(s *session) []string { return []string{"CONTEXT=SEARCH", "CONTEXT=SORT"} },
	commands: map[string]commandSpec{
		"CANCELUPDATE": {states: stateSelected, handle: handleCancelUpdate},
	},
}

// maxSearchUpdates bounds the live searches of a session: each re-reads
// the messages that change, so a client cannot multiply that work.
const maxSearchUpdates = 8

// searchUpdate is a SEARCH RETURN (UPDATE) that is still live.
type searchUpdate struct {
	tag    string
	uid    bool
	key    *searchKey
	sel    *selected         // the mailbox it belongs to; a new SELECT ends it
	result map[uint32]bool   // UIDs the client was told match
	seen   map[uint32]uint64 // UID -> the MODSEQ it was evaluated at
	sort   *sortUpdate       // a SORT RETURN (UPDATE), nil for SEARCH
}

// startSearchUpdate keeps a search live after its first answer (RFC 5267
// §4.3). uids are the matches, seen the messages evaluated. Past the
// limit the client is told NOUPDATE and gets no updates.
func (s *session) startSearchUpdate(c *command, key *searchKey, uids []uint32, sort *sortUpdate) error {
	s.dropStaleUpdates()
	if len(s.updates) >= maxSearchUpdates {
		return s.writef("* NO [NOUPDATE %s] Too many searches with UPDATE", quoteIMAP(c.tag, false))
	}
	u := &searchUpdate{tag: c.tag, uid: c.uid, key: key, sel: s.sel,
		result: make(map[uint32]bool, len(uids)), seen: make(map[uint32]uint64, len(s.sel.msgs)), sort: sort}
	for _, uid := range uids {
		u.result[uid] = true
	}
	for _, m := range s.sel.msgs {
		if !s.sel.pendingExpunge[m.UID] {
			u.seen[m.UID] = m.ModSeq
		}
	}
	s.updates = append(s.updates, u)
	return nil
}

// updateTagInUse reports whether a live UPDATE search has tag: a client
// must not reuse it while the search lives (RFC 5267 §4.3).
func (s *session) updateTagInUse(tag string) bool {
	s.dropStaleUpdates()
	return slices.ContainsFunc(s.updates, func(u *searchUpdate) bool { return u.tag == tag })
}

// dropStaleUpdates ends the searches of a mailbox no longer selected.
func (s *session) dropStaleUpdates() {
	s.updates = slices.DeleteFunc(s.updates, func(u *searchUpdate) bool { return u.sel != s.sel })
}

// syncAll reports mailbox changes (syncSelected) and then what they did
// to the live searches.
func (s *session) syncAll(allowExpunge bool) error {
	if err := s.syncSelected(allowExpunge); err != nil {
		return err
	}
	s.dropStaleUpdates()
	for _, u := range s.updates {
		if err := s.sendSearchUpdate(u); err != nil {
			return err
		}
	}
	return nil
}

// sendSearchUpdate tells the client what the changes since u last looked
// did to its result: REMOVEFROM and ADDTO with position 0, as a SEARCH
// result has no order (RFC 5267 §4.3); a live SORT is sortUpdate's. A
// message already reported expunged is gone from a sequence-number
// result by that EXPUNGE; a UID result is told.
func (s *session) sendSearchUpdate(u *searchUpdate) error {
	added, removed, expunged, err := s.updateMembers(u)
	if err != nil || len(added)+len(removed)+len(expunged) == 0 {
		return err
	}
	if u.sort != nil {
		return s.sendSortUpdate(u, added, removed, expunged)
	}
	num := func(uid uint32) uint32 {
		if u.uid {
			return uid
		}
		return uint32(s.sel.index(uid) + 1)
	}
	var rem, add []uint32
	for _, uid := range removed {
		rem = append(rem, num(uid))
	}
	if u.uid {
		rem = append(rem, expunged...)
	}
	for _, uid := range added {
		add = append(add, num(uid))
	}
	var items []string
	if len(rem) > 0 {
		slices.Sort(rem)
		items = append(items, "REMOVEFROM (0 "+formatUIDSet(rem)+")")
	}
	if len(add) > 0 {
		slices.Sort(add)
		items = append(items, "ADDTO (0 "+formatUIDSet(add)+")")
	}
	return s.writeUpdate(u, items)
}

// writeUpdate sends one unsolicited ESEARCH response of u with items.
func (s *session) writeUpdate(u *searchUpdate, items []string) error {
	if len(items) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "* ESEARCH (TAG %s)", quoteIMAP(u.tag, false))
	if u.uid {
		b.WriteString(" UID")
	}
	for _, it := range items {
		b.WriteString(" " + it)
	}
	return s.writef("%s", b.String())
}

// updateMembers evaluates the messages that changed since u last looked
// and returns, as UIDs, those that entered u's result, those that left it
// and those that left it by being expunged.
func (s *session) updateMembers(u *searchUpdate) (added, removed, expunged []uint32, err error) {
	sel := s.sel
	ev := searchEnv{count: uint32(len(sel.msgs)), maxUID: sel.maxUID(), saved: make(map[uint32]bool, len(s.searchRes))}
	for _, uid := range s.searchRes {
		ev.saved[uid] = true
	}
	needBlob := u.key.needsBlob()
	present := make(map[uint32]bool, len(sel.msgs))
	for i, m := range sel.msgs {
		present[m.UID] = true
		if sel.pendingExpunge[m.UID] {
			continue
		}
		if ms, ok := u.seen[m.UID]; ok && ms == m.ModSeq {
			continue
		}
		u.seen[m.UID] = m.ModSeq
		ev.seq, ev.m, ev.parsed, ev.raw = uint32(i+1), m, nil, nil
		if needBlob {
			raw, err := s.readBlob(m)
			if err != nil {
				return nil, nil, nil, err
			}
			ev.raw = raw
		}
		switch match := ev.match(u.key); {
		case match && !u.result[m.UID]:
			u.result[m.UID] = true
			added = append(added, m.UID)
		case !match && u.result[m.UID]:
			delete(u.result, m.UID)
			removed = append(removed, m.UID)
		}
	}
	for uid := range u.result {
		if !present[uid] {
			delete(u.result, uid)
			delete(u.seen, uid)
			expunged = append(expunged, uid)
		}
	}
	return added, removed, expunged, nil
}

// handleCancelUpdate: CANCELUPDATE 1*(SP quoted) ends live searches by
// their tags (RFC 5267 §4.3, §5); an unknown tag is NO.
func handleCancelUpdate(s *session, c *command) error {
	var tags []string
	for !c.p.atEnd() {
		if err := c.p.sp(); err != nil {
			return err
		}
		if c.p.peek() != '"' {
			return errSyntax("CANCELUPDATE takes quoted tags")
		}
		t, err := c.p.quoted()
		if err != nil {
			return err
		}
		tags = append(tags, t)
	}
	if len(tags) == 0 {
		return errSyntax("CANCELUPDATE needs a tag")
	}
	s.dropStaleUpdates()
	for _, t := range tags {
		if !s.updateTagInUse(t) {
			return errNo("", "No search with UPDATE has tag "+quoteIMAP(t, false))
		}
	}
	s.updates = slices.DeleteFunc(s.updates, func(u *searchUpdate) bool { return slices.Contains(tags, u.tag) })
	return nil
}
