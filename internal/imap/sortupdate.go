package imap

import (
	"slices"
	"strconv"
)

// sortUpdate is the sorted side of a live SORT RETURN (UPDATE) (RFC 5267
// §4.3, CONTEXT=SORT): the result in sort order, so that a message that
// enters or leaves it can be reported with its position.
type sortUpdate struct {
	keys                 []sortKey
	needHeader, needSent bool
	order                []*sortMsg
}

// sendSortUpdate reports membership changes of a live SORT with
// positions (1-based) in the result as the client holds it: removals
// from the highest position down, so each position is still valid when
// the client applies it, then additions from the lowest position up, at
// their place in the new order. Sort keys never change (they come from
// the message), so no message moves. A message reported expunged is gone
// from a sequence-number result by its EXPUNGE.
func (s *session) sendSortUpdate(u *searchUpdate, added, removed, expunged []uint32) error {
	su := u.sort
	gone := make(map[uint32]bool, len(removed)+len(expunged))
	for _, uid := range removed {
		gone[uid] = true
	}
	var items []string
	if !u.uid { // EXPUNGE already took them out of the client's list
		su.order = slices.DeleteFunc(su.order, func(sm *sortMsg) bool { return slices.Contains(expunged, sm.m.UID) })
	} else {
		for _, uid := range expunged {
			gone[uid] = true
		}
	}
	for i := len(su.order) - 1; i >= 0; i-- {
		if gone[su.order[i].m.UID] {
			items = append(items, "REMOVEFROM ("+strconv.Itoa(i+1)+" "+strconv.FormatUint(uint64(s.sortNum(u, su.order[i])), 10)+")")
		}
	}
	su.order = slices.DeleteFunc(su.order, func(sm *sortMsg) bool { return gone[sm.m.UID] })
	if len(added) > 0 {
		fresh := make([]*sortMsg, 0, len(added))
		isNew := make(map[uint32]bool, len(added))
		for _, uid := range added {
			i := s.sel.index(uid)
			fresh = append(fresh, &sortMsg{m: s.sel.msgs[i], sent: s.sel.msgs[i].InternalDate})
			isNew[uid] = true
		}
		if su.needHeader || su.needSent {
			if err := s.loadSortHeaders(fresh); err != nil {
				return err
			}
		}
		all := append(su.order, fresh...)
		// Ties keep sequence order (RFC 5256 §3): UID order is that order.
		slices.SortFunc(all, func(a, b *sortMsg) int { return int(int64(a.m.UID) - int64(b.m.UID)) })
		sortMessages(all, su.keys)
		su.order = all
		for i, sm := range su.order {
			if isNew[sm.m.UID] {
				items = append(items, "ADDTO ("+strconv.Itoa(i+1)+" "+strconv.FormatUint(uint64(s.sortNum(u, sm)), 10)+")")
			}
		}
	}
	return s.writeUpdate(u, items)
}

// sortNum is the number a live SORT reports for sm now: its UID, or its
// current sequence number.
func (s *session) sortNum(u *searchUpdate, sm *sortMsg) uint32 {
	if u.uid {
		return sm.m.UID
	}
	return uint32(s.sel.index(sm.m.UID) + 1)
}
