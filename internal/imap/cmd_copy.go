package imap

import (
	"fmt"
	"slices"
)

// copyFeature: COPY (RFC 3501 §6.4.7) and MOVE (RFC 6851), with COPYUID
// (RFC 4315 §3), and their UID forms.
var copyFeature = feature{
	caps: func(s *session) []string { return []string{"MOVE"} },
	commands: map[string]commandSpec{
		"COPY":     {states: stateSelected, handle: handleCopy},
		"UID COPY": {states: stateSelected, handle: handleCopy},
		"MOVE":     {states: stateSelected, handle: handleMove},
		"UID MOVE": {states: stateSelected, handle: handleMove},
	},
}

func handleCopy(s *session, c *command) error { return s.copyOrMove(c, false) }
func handleMove(s *session, c *command) error { return s.copyOrMove(c, true) }

func (s *session) copyOrMove(c *command, move bool) error {
	if err := c.p.sp(); err != nil {
		return err
	}
	set, err := c.p.seqSet()
	if err != nil {
		return err
	}
	if err := c.p.sp(); err != nil {
		return err
	}
	name, err := s.mailboxArg(c.p)
	if err != nil {
		return err
	}
	if err := c.p.end(); err != nil {
		return err
	}
	idx, err := s.resolveSet(set, c.uid)
	if err != nil {
		return err
	}
	if move {
		// RFC 4314 §4: MOVE needs "t" and "e" on the source ("r" was
		// checked at SELECT).
		if err := s.sel.mayRemove(); err != nil {
			return err
		}
	}
	dst, err := s.resolveFor(name, rightInsert)
	if err != nil {
		return withTryCreate(err)
	}
	if len(idx) == 0 {
		return nil
	}
	uids := make([]uint32, len(idx))
	for i, j := range idx {
		uids[i] = s.sel.msgs[j].UID
	}
	var srcUIDs, dstUIDs []uint32
	switch {
	case dst.owner != s.sel.owner:
		srcUIDs, dstUIDs, err = s.copyAcross(uids, dst, move)
	case move:
		srcUIDs, dstUIDs, err = s.store.Move(s.ctx, dst.owner, s.sel.info.ID, uids, dst.info.ID)
	default:
		srcUIDs, dstUIDs, err = s.store.Copy(s.ctx, dst.owner, s.sel.info.ID, uids, dst.info.ID)
	}
	if err != nil {
		return withTryCreate(err)
	}
	code := ""
	if len(srcUIDs) > 0 {
		code = fmt.Sprintf("COPYUID %d %s %s", dst.info.UIDValidity, uidList(srcUIDs), uidList(dstUIDs))
	}
	if !move {
		c.ok(code, "COPY completed")
		return nil
	}
	// RFC 6851 §4.3: COPYUID goes in an untagged OK before the EXPUNGEs.
	if code != "" {
		if err := s.writef("* OK [%s] Moved", code); err != nil {
			return err
		}
	}
	gone := make(map[uint32]bool, len(srcUIDs))
	for _, u := range srcUIDs {
		gone[u] = true
	}
	return s.reportExpunged(gone)
}

// uidList renders UIDs for COPYUID: compact ranges when ascending (the
// pairing of source and destination is preserved), else in order.
func uidList(uids []uint32) string {
	if slices.IsSorted(uids) {
		return formatUIDSet(uids)
	}
	return formatNumList(uids)
}
