package imap

// expungeFeature: EXPUNGE (RFC 3501 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1).
var expungeFeature = feature{
	commands: map[string]commandSpec{
		"EXPUNGE":     {states: stateSelected, handle: handleExpunge},
		"UID EXPUNGE": {states: stateSelected, handle: handleExpunge},
	},
}

func handleExpunge(s *session, c *command) error {
	var uids []uint32 // nil: every \Deleted message
	if c.uid {
		if err := c.p.sp(); err != nil {
			return err
		}
		set, err := c.p.seqSet()
		if err != nil {
			return err
		}
		idx, err := s.resolveSet(set, true)
		if err != nil {
			return err
		}
		if len(idx) == 0 {
			return c.p.end()
		}
		for _, i := range idx {
			uids = append(uids, s.sel.msgs[i].UID)
		}
	}
	if err := c.p.end(); err != nil {
		return err
	}
	if err := s.sel.writable(); err != nil {
		return err
	}
	if err := needRights(s.sel.rights, rightExpunge); err != nil { // RFC 4314 §4
		return err
	}
	gone, err := s.store.Expunge(s.ctx, s.sel.owner, s.sel.info.ID, uids)
	if err != nil {
		return err
	}
	set := make(map[uint32]bool, len(gone))
	for _, u := range gone {
		set[u] = true
	}
	if err := s.reportExpunged(set); err != nil {
		return err
	}
	if s.condstore {
		return s.okHighestModSeq(c)
	}
	return nil
}
