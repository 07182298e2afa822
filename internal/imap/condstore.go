package imap

import (
	"slices"
	"strconv"
	"strings"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// condstoreFeature: CONDSTORE (RFC 7162 §3.1). It brings no commands of
// its own; it adds modifiers and items to SELECT, FETCH, STORE, SEARCH and
// STATUS, parsed here and called from those commands' files.
var condstoreFeature = feature{
	caps: func(s *session) []string { return []string{"CONDSTORE"} },
}

// enableCondstore records a CONDSTORE-enabling command (RFC 7162 §3.1).
// When the first one arrives with a mailbox selected, the client may not
// have noted its HIGHESTMODSEQ, so it is sent now (RFC 7162 §3.1).
func (s *session) enableCondstore() error {
	if s.condstore {
		return nil
	}
	s.condstore = true
	if s.sel != nil {
		return s.writef("* OK [HIGHESTMODSEQ %d] Highest", s.sel.modseq)
	}
	return nil
}

// modSeqItem renders the FETCH data item "MODSEQ (n)" (RFC 7162 §3.1.4.2).
func modSeqItem(n uint64) string { return "MODSEQ (" + strconv.FormatUint(n, 10) + ")" }

// selectParams are the SELECT/EXAMINE parameters of RFC 7162 §3.1.8
// and §3.2.5.
type selectParams struct {
	condstore bool
	qresync   *qresyncParams
}

// parseSelectParams reads " (param ...)" after the mailbox name, if any,
// to the end of the command.
func parseSelectParams(p *parser) (selectParams, error) {
	var sp selectParams
	if p.atEnd() {
		return sp, nil
	}
	if err := p.sp(); err != nil {
		return sp, err
	}
	err := p.list(func() error {
		name, err := p.atom()
		if err != nil {
			return err
		}
		switch strings.ToUpper(name) {
		case "CONDSTORE":
			sp.condstore = true
			return nil
		case "QRESYNC":
			if err := p.sp(); err != nil {
				return err
			}
			q, err := parseQresyncParams(p)
			sp.qresync = q
			return err
		}
		return errSyntax("unknown SELECT parameter %q", name)
	})
	if err != nil {
		return sp, err
	}
	return sp, p.end()
}

// fetchModifiers are the FETCH modifiers of RFC 7162 §3.1.4.1 and §3.2.6,
// and PARTIAL (RFC 9394 §3.3).
type fetchModifiers struct {
	changedSince uint64
	hasChanged   bool
	vanished     bool
	partial      *partialRange // PARTIAL of RFC 9394 §3.3 (UID FETCH only)
}

// parseFetchModifiers reads " (CHANGEDSINCE n [VANISHED])" after the
// fetch items, if present.
func parseFetchModifiers(p *parser) (fetchModifiers, error) {
	var m fetchModifiers
	if p.atEnd() {
		return m, nil
	}
	if err := p.sp(); err != nil {
		return m, err
	}
	err := p.list(func() error {
		name, err := p.atom()
		if err != nil {
			return err
		}
		switch strings.ToUpper(name) {
		case "CHANGEDSINCE":
			if err := p.sp(); err != nil {
				return err
			}
			m.changedSince, err = p.number64()
			m.hasChanged = true
			return err
		case "VANISHED":
			m.vanished = true
			return nil
		case "PARTIAL": // RFC 9394 §3.3, partial.go
			if m.partial != nil {
				return errSyntax("PARTIAL given twice")
			}
			if err := p.sp(); err != nil {
				return err
			}
			r, err := parsePartialRange(p)
			m.partial = &r
			return err
		}
		return errSyntax("unknown FETCH modifier %q", name)
	})
	if err == nil && m.vanished && !m.hasChanged {
		// RFC 7162 §3.2.6: VANISHED needs CHANGEDSINCE.
		err = errBad("", "VANISHED requires CHANGEDSINCE")
	}
	return m, err
}

// parseStoreModifiers reads "(UNCHANGEDSINCE n) " before the store item
// if present (RFC 7162 §3.1.3); ok is false when there is none.
func parseStoreModifiers(p *parser) (unchangedSince uint64, ok bool, err error) {
	if p.peek() != '(' {
		return 0, false, nil
	}
	err = p.list(func() error {
		name, err := p.atom()
		if err != nil {
			return err
		}
		if !strings.EqualFold(name, "UNCHANGEDSINCE") {
			return errSyntax("unknown STORE modifier %q", name)
		}
		if err := p.sp(); err != nil {
			return err
		}
		unchangedSince, err = p.number64()
		ok = true
		return err
	})
	if err != nil {
		return 0, false, err
	}
	return unchangedSince, ok, p.sp()
}

func hasFetchItem(items []fetchItem, kind fetchKind) bool {
	return slices.ContainsFunc(items, func(it fetchItem) bool { return it.kind == kind })
}

// changedSince keeps the messages whose MODSEQ is above since: the FETCH
// modifier CHANGEDSINCE (RFC 7162 §3.1.4.1).
func (s *session) changedSince(idx []int, since uint64) []int {
	out := idx[:0]
	for _, i := range idx {
		if s.sel.msgs[i].ModSeq > since {
			out = append(out, i)
		}
	}
	return out
}

// condstoreFetchItems adds MODSEQ where CONDSTORE requires it: with
// CHANGEDSINCE, and, once enabled, in every FETCH response that carries
// flags, and then UID too (RFC 7162 §3.1, §3.1.4.1). A non-PEEK body
// item may add FLAGS by setting \Seen, so it counts as carrying flags.
func (s *session) condstoreFetchItems(items []fetchItem, changedSince bool) []fetchItem {
	flags := slices.ContainsFunc(items, func(it fetchItem) bool {
		return it.kind == fetchFlags || (it.kind == fetchSection || it.kind == fetchBinary) && !it.peek
	})
	if s.condstore && flags && !hasFetchItem(items, fetchUID) {
		items = append([]fetchItem{{kind: fetchUID}}, items...)
	}
	if (changedSince || s.condstore && flags) && !hasFetchItem(items, fetchModSeq) {
		items = append(items, fetchItem{kind: fetchModSeq})
	}
	return items
}

// modifiedSet renders the UIDs that failed UNCHANGEDSINCE for the MODIFIED
// response code: UIDs for UID STORE, sequence numbers for STORE (RFC 7162
// §3.1.3).
func (s *session) modifiedSet(uids []uint32, uid bool) string {
	if uid {
		return formatUIDSet(uids)
	}
	var seqs []uint32
	for _, u := range uids {
		if i := s.sel.index(u); i >= 0 {
			seqs = append(seqs, uint32(i+1))
		}
	}
	return formatUIDSet(seqs)
}

// writeFlagsUpdate sends an unsolicited FETCH for another session's flag
// change; with CONDSTORE it carries UID and MODSEQ (RFC 7162 §3.1).
func (s *session) writeFlagsUpdate(seq int, m mailstore.Message) error {
	m = s.sel.withRecent(m)
	if s.condstore {
		return s.writef("* %d FETCH (UID %d FLAGS (%s) %s)", seq, m.UID, strings.Join(m.Flags, " "), modSeqItem(m.ModSeq))
	}
	return s.writef("* %d FETCH (FLAGS (%s))", seq, strings.Join(m.Flags, " "))
}

// parseModSeqKey reads the rest of the SEARCH key MODSEQ [entry-name
// entry-type-req] mod-sequence-valzer (RFC 7162 §3.1.5). The entry names
// a per-flag MODSEQ; ours is per message, which the RFC allows to use for
// every entry, so the entry is checked and ignored.
func parseModSeqKey(p *parser) (uint64, error) {
	if p.peek() == '"' {
		if _, err := p.quoted(); err != nil {
			return 0, err
		}
		if err := p.sp(); err != nil {
			return 0, err
		}
		typ, err := p.atom()
		if err != nil {
			return 0, err
		}
		switch strings.ToLower(typ) {
		case "priv", "shared", "all":
		default:
			return 0, errSyntax("invalid MODSEQ entry type %q", typ)
		}
		if err := p.sp(); err != nil {
			return 0, err
		}
	}
	return p.number64()
}

// usesModSeq reports whether the program has a MODSEQ key, which makes
// the SEARCH response carry the highest MODSEQ found (RFC 7162 §3.1.6).
func (k *searchKey) usesModSeq() bool {
	if k.op == opModSeq {
		return true
	}
	for _, c := range k.kids {
		if c.usesModSeq() {
			return true
		}
	}
	return false
}

// eSearchModSeq is the MODSEQ an ESEARCH reports: the highest of the
// messages it returns, which with only MIN and/or MAX are just those
// (RFC 7162 §3.1.9).
func eSearchModSeq(ret []string, modseqs []uint64) uint64 {
	if len(ret) == 0 || slices.Contains(ret, "ALL") || slices.Contains(ret, "COUNT") {
		return slices.Max(modseqs)
	}
	var m uint64
	if slices.Contains(ret, "MIN") {
		m = modseqs[0]
	}
	if slices.Contains(ret, "MAX") {
		m = max(m, modseqs[len(modseqs)-1])
	}
	if m == 0 { // SAVE alone
		return slices.Max(modseqs)
	}
	return m
}

// okHighestModSeq puts HIGHESTMODSEQ (RFC 7162 §3.1.2.1) in the tagged OK
// of an EXPUNGE, as Dovecot does, so a client can advance its cached value
// without a NOOP. It syncs first: the value must not run ahead of the
// changes the client has been told about.
func (s *session) okHighestModSeq(c *command) error {
	if err := s.syncSelected(true); err != nil {
		return err
	}
	c.ok("HIGHESTMODSEQ "+strconv.FormatUint(s.sel.modseq, 10), c.name+" completed")
	return nil
}
