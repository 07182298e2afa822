package imap

import (
	"math"
	"strconv"
	"strings"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// storeFeature: STORE and UID STORE (RFC 3501 §6.4.6).
var storeFeature = feature{
	commands: map[string]commandSpec{
		"STORE":     {states: stateSelected, handle: handleStore, noExpunge: true},
		"UID STORE": {states: stateSelected, handle: handleStore},
	},
}

func handleStore(s *session, c *command) error {
	p := c.p
	if err := p.sp(); err != nil {
		return err
	}
	set, err := p.seqSet()
	if err != nil {
		return err
	}
	if err := p.sp(); err != nil {
		return err
	}
	unchangedSince, conditional, err := parseStoreModifiers(p)
	if err != nil {
		return err
	}
	op := mailstore.FlagsReplace
	if p.consume('+') {
		op = mailstore.FlagsAdd
	} else if p.consume('-') {
		op = mailstore.FlagsRemove
	}
	item, err := p.word(isFetchNameChar, "FLAGS")
	if err != nil {
		return err
	}
	silent := false
	switch strings.ToUpper(item) {
	case "FLAGS":
	case "FLAGS.SILENT":
		silent = true
	default:
		return errSyntax("unknown store item %q", item)
	}
	if err := p.sp(); err != nil {
		return err
	}
	var flags []string
	if p.peek() == '(' {
		if flags, err = p.flagList(); err != nil {
			return err
		}
	} else {
		for {
			f, err := p.flag()
			if err != nil {
				return err
			}
			flags = append(flags, f)
			if !p.consume(' ') {
				break
			}
		}
	}
	if err := p.end(); err != nil {
		return err
	}
	idx, err := s.resolveSet(set, c.uid)
	if err != nil {
		return err
	}
	if err := s.sel.writable(); err != nil {
		return err
	}
	if conditional {
		if err := s.enableCondstore(); err != nil { // RFC 7162 §3.1
			return err
		}
	}
	if len(idx) == 0 {
		return nil
	}
	uids := make([]uint32, len(idx))
	for i, j := range idx {
		uids[i] = s.sel.msgs[j].UID
	}
	req := mailstore.ConditionalFlags{UIDs: uids, Op: op, Flags: flags, UnchangedSince: math.MaxUint64}
	if conditional {
		req.UnchangedSince = unchangedSince
	}
	reqs, err := s.sel.permittedStores(req) // RFC 4314 §4
	if err != nil {
		return err
	}
	var changed []mailstore.Message
	var modified []uint32
	for _, r := range reqs {
		ch, mod, err := s.store.SetFlagsIf(s.ctx, s.sel.owner, s.sel.info.ID, r)
		if err != nil {
			return err
		}
		changed, modified = append(changed, ch...), append(modified, mod...)
	}
	if err := s.announceKeywords(changed); err != nil {
		return err
	}
	changedUIDs := make(map[uint32]bool, len(changed))
	// unforeseen: changed messages whose new flags the client cannot
	// work out from what it was told and what it asked, because another
	// session changed them meanwhile. .SILENT does not hide those (RFC
	// 9051 §6.4.6: the flags must stay determinate).
	unforeseen := make(map[uint32]bool)
	for _, m := range changed {
		changedUIDs[m.UID] = true
		if i := s.sel.index(m.UID); i >= 0 {
			if !sameFlags(flagsAfter(s.sel.msgs[i].Flags, reqs), m.Flags) {
				unforeseen[m.UID] = true
			}
			s.sel.msgs[i] = m
		}
	}
	failed := make(map[uint32]bool, len(modified))
	for _, u := range modified {
		failed[u] = true
	}
	if len(modified) > 0 {
		c.ok("MODIFIED "+s.modifiedSet(modified, c.uid), "Conditional STORE failed")
	}
	// Report the current flags of every message in the set (RFC 3501
	// §6.4.6), except those that failed UNCHANGEDSINCE. With CONDSTORE
	// the response carries MODSEQ, and .SILENT still reports the new
	// MODSEQ of changed messages (RFC 7162 §3.1.3), and the flags of
	// those another session changed too.
	var b strings.Builder
	for _, i := range idx {
		m := s.sel.withRecent(s.sel.msgs[i])
		quiet := silent && !unforeseen[m.UID]
		if failed[m.UID] || quiet && (!s.condstore || !changedUIDs[m.UID]) {
			continue
		}
		b.Reset()
		b.WriteString("* ")
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString(" FETCH (")
		if c.uid || s.condstore {
			b.WriteString("UID ")
			b.WriteString(strconv.FormatUint(uint64(m.UID), 10))
			b.WriteByte(' ')
		}
		if !quiet {
			b.WriteString("FLAGS (")
			b.WriteString(strings.Join(m.Flags, " "))
			b.WriteString(")")
			if s.condstore {
				b.WriteByte(' ')
			}
		}
		if s.condstore {
			b.WriteString(modSeqItem(m.ModSeq))
		}
		b.WriteString(")\r\n")
		if err := s.write([]byte(b.String())); err != nil {
			return err
		}
	}
	return nil
}
