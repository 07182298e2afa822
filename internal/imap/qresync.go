package imap

import (
	"bytes"
	"slices"
	"strings"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// qresyncFeature: QRESYNC (RFC 7162 §3.2). Enabled only by ENABLE
// QRESYNC; it turns EXPUNGE responses into VANISHED and lets SELECT and
// UID FETCH report expunges since a MODSEQ from the store's tombstones.
var qresyncFeature = feature{
	caps: func(s *session) []string { return []string{"QRESYNC"} },
}

// qresyncParams is the QRESYNC SELECT parameter (RFC 7162 §3.2.5).
type qresyncParams struct {
	uidValidity uint32
	modSeq      uint64
	knownUIDs   *seqSet // nil: every UID
}

// parseQresyncParams reads "(uidvalidity modseq [known-uids]
// [(known-seqs known-uids)])". The sequence match data only helps servers
// that forget expunges; ours keeps tombstones, so it is checked and dropped.
func parseQresyncParams(p *parser) (*qresyncParams, error) {
	q := &qresyncParams{}
	if err := p.expect('('); err != nil {
		return nil, err
	}
	var err error
	if q.uidValidity, err = p.number(); err != nil || q.uidValidity == 0 {
		return nil, errSyntax("invalid QRESYNC UIDVALIDITY")
	}
	if err := p.sp(); err != nil {
		return nil, err
	}
	if q.modSeq, err = p.number64(); err != nil || q.modSeq == 0 {
		return nil, errSyntax("invalid QRESYNC MODSEQ")
	}
	if p.consume(' ') && p.peek() != '(' {
		set, err := p.seqSet()
		if err != nil || set.saved {
			return nil, errSyntax("invalid QRESYNC known UIDs")
		}
		q.knownUIDs = &set
		p.consume(' ')
	}
	if p.peek() == '(' {
		p.i++
		if _, err := p.seqSet(); err != nil {
			return nil, err
		}
		if err := p.sp(); err != nil {
			return nil, err
		}
		if _, err := p.seqSet(); err != nil {
			return nil, err
		}
		if err := p.expect(')'); err != nil {
			return nil, err
		}
	}
	return q, p.expect(')')
}

// resyncSelected sends what changed since the client's cached state, after
// the usual SELECT responses (RFC 7162 §3.2.5.2): VANISHED (EARLIER) for
// expunges, then FETCH (UID FLAGS MODSEQ) for changed messages. A stale
// UIDVALIDITY means the cache is void and nothing is sent.
func (s *session) resyncSelected(q *qresyncParams) error {
	sel := s.sel
	if q.uidValidity != sel.info.UIDValidity {
		return nil
	}
	ch, err := s.store.Changes(s.ctx, sel.owner, sel.info.ID, q.modSeq)
	if err != nil {
		return err
	}
	maxUID := max(sel.maxUID(), sel.info.UIDNext-1)
	known := func(uid uint32) bool { return q.knownUIDs == nil || q.knownUIDs.containsUID(uid, maxUID) }
	var gone []uint32
	for _, uid := range ch.Expunged {
		// UIDs still in msgs were expunged after SELECT read them; the
		// next sync reports those as plain VANISHED.
		if known(uid) && sel.index(uid) < 0 {
			gone = append(gone, uid)
		}
	}
	if len(gone) > 0 {
		if err := s.writef("* VANISHED (EARLIER) %s", formatUIDSet(gone)); err != nil {
			return err
		}
	}
	for i, m := range sel.msgs {
		if m.ModSeq <= q.modSeq || !known(m.UID) {
			continue
		}
		if err := s.writef("* %d FETCH (UID %d FLAGS (%s) %s)", i+1, m.UID, strings.Join(sel.withRecent(m).Flags, " "), modSeqItem(m.ModSeq)); err != nil {
			return err
		}
	}
	return nil
}

// writeVanishedEarlier answers UID FETCH (CHANGEDSINCE n VANISHED): the
// UIDs in set expunged after n (RFC 7162 §3.2.6), before any FETCH.
func (s *session) writeVanishedEarlier(set seqSet, since uint64) error {
	ch, err := s.store.Changes(s.ctx, s.sel.owner, s.sel.info.ID, since)
	if err != nil {
		return err
	}
	maxUID := max(s.sel.maxUID(), ch.UIDNext-1)
	var gone []uint32
	for _, uid := range ch.Expunged {
		if s.sel.index(uid) >= 0 {
			continue // not reported yet: the sync after this command sends VANISHED
		}
		if set.saved && slices.Contains(s.searchRes, uid) || !set.saved && set.containsUID(uid, maxUID) {
			gone = append(gone, uid)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	var b bytes.Buffer
	b.WriteString("* VANISHED (EARLIER) ")
	b.WriteString(formatUIDSet(gone))
	b.WriteString("\r\n")
	return s.write(b.Bytes())
}

// reportVanished is reportExpunged after ENABLE QRESYNC: one
// "* VANISHED uid-set" instead of an EXPUNGE per message (RFC 7162 §3.2.10).
func (s *session) reportVanished(uids map[uint32]bool) error {
	sel := s.sel
	var gone []uint32
	sel.msgs = slices.DeleteFunc(sel.msgs, func(m mailstore.Message) bool {
		if uids[m.UID] {
			gone = append(gone, m.UID)
			return true
		}
		return false
	})
	if len(gone) == 0 {
		return nil
	}
	return s.writef("* VANISHED %s", formatUIDSet(gone))
}
