package imap

import (
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rookery-mail/rookery/internal/imap/imapmsg"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

// searchFeature: SEARCH and UID SEARCH (RFC 3501 §6.4.4, §6.4.8) with
// ESEARCH result options (RFC 4731) and SEARCHRES "$" (RFC 5182).
var searchFeature = feature{
	caps: func(s *session) []string { return []string{"ESEARCH", "SEARCHRES"} },
	commands: map[string]commandSpec{
		"SEARCH":     {states: stateSelected, handle: handleSearch, noExpunge: true},
		"UID SEARCH": {states: stateSelected, handle: handleSearch},
	},
}

func handleSearch(s *session, c *command) error {
	prog, err := parseSearch(c.p)
	if err != nil {
		return err
	}
	saving := slices.Contains(prog.ret, "SAVE")
	updating := slices.Contains(prog.ret, "UPDATE")
	if updating && s.updateTagInUse(c.tag) {
		return errBad("", "Tag in use by a search with UPDATE") // RFC 5267 §4.3
	}
	withModSeq := prog.key.usesModSeq()
	if withModSeq {
		if err := s.enableCondstore(); err != nil { // RFC 7162 §3.1
			return err
		}
	}
	sel := s.sel
	if err := s.useTextIndex(prog.key); err != nil {
		return err
	}
	needBlob := prog.key.needsBlob()
	ev := s.newSearchEnv()
	if saving {
		s.searchRes = nil // a failed SEARCH leaves "$" empty (RFC 5182 §2.1)
	}
	var uids, seqs []uint32
	var modseqs []uint64 // of the matches, for the MODSEQ result
	for i, m := range sel.msgs {
		if err := s.interrupted(i); err != nil {
			return err
		}
		if sel.pendingExpunge[m.UID] {
			continue
		}
		ev.seq, ev.m, ev.parsed = uint32(i+1), m, nil
		if needBlob {
			raw, err := s.readBlob(m)
			if err != nil {
				return err
			}
			ev.raw = raw
		}
		if ev.match(prog.key) {
			uids = append(uids, m.UID)
			seqs = append(seqs, uint32(i+1))
			modseqs = append(modseqs, m.ModSeq)
		}
	}
	nums := seqs
	if c.uid {
		nums = uids
	}
	if !prog.hasReturn && !s.rev2 { // RFC 9051 §6.4.4: IMAP4rev2 always answers ESEARCH
		var b strings.Builder
		b.WriteString("* SEARCH")
		for _, n := range nums {
			b.WriteByte(' ')
			b.WriteString(strconv.FormatUint(uint64(n), 10))
		}
		if withModSeq && len(modseqs) > 0 {
			b.WriteString(" (MODSEQ " + strconv.FormatUint(slices.Max(modseqs), 10) + ")") // RFC 7162 §3.1.6
		}
		b.WriteString("\r\n")
		return s.write([]byte(b.String()))
	}
	var highest uint64 // 0: no MODSEQ result
	if withModSeq && len(modseqs) > 0 {
		highest = eSearchModSeq(prog.ret, modseqs)
	}
	if err := s.writeESearch(c, prog.ret, prog.partial, nums, uids, highest); err != nil || !updating {
		return err
	}
	return s.startSearchUpdate(c, prog.key, uids, nil)
}

// writeESearch answers a SEARCH with RETURN options (RFC 4731 §3.1) and
// saves the result for "$" when asked (RFC 5182 §2.4: with MIN or MAX only
// those are saved; RFC 9394 §3.2: with PARTIAL the page, unless COUNT).
// A highestModSeq other than 0 adds the MODSEQ result of RFC 7162 §3.1.9.
func (s *session) writeESearch(c *command, ret []string, partial *partialRange, nums, uids []uint32, highestModSeq uint64) error {
	want := returnWants(ret)
	var from, to int // the PARTIAL window
	if partial != nil {
		from, to = partial.window(len(nums))
	}
	if want["SAVE"] {
		switch {
		case len(uids) == 0:
			s.searchRes = nil
		case partial != nil && !want["COUNT"]:
			res := slices.Clone(uids[from:to])
			if want["MIN"] {
				res = append(res, uids[0])
			}
			if want["MAX"] {
				res = append(res, uids[len(uids)-1])
			}
			slices.Sort(res)
			s.searchRes = slices.Compact(res)
		case want["MIN"] || want["MAX"]:
			s.searchRes = nil
			if want["MIN"] {
				s.searchRes = append(s.searchRes, uids[0])
			}
			if want["MAX"] && (!want["MIN"] || len(uids) > 1) {
				s.searchRes = append(s.searchRes, uids[len(uids)-1])
			}
		default:
			s.searchRes = slices.Clone(uids)
		}
		if !want["ALL"] && !want["MIN"] && !want["MAX"] && !want["COUNT"] && partial == nil {
			return nil // SAVE alone: no ESEARCH response
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "* ESEARCH (TAG %s)", quoteIMAP(c.tag, false))
	if c.uid {
		b.WriteString(" UID")
	}
	if len(nums) > 0 {
		if want["MIN"] {
			fmt.Fprintf(&b, " MIN %d", nums[0])
		}
		if want["MAX"] {
			fmt.Fprintf(&b, " MAX %d", nums[len(nums)-1])
		}
		if want["ALL"] {
			fmt.Fprintf(&b, " ALL %s", formatUIDSet(nums))
		}
	}
	if partial != nil {
		b.WriteString(" " + partialItem(*partial, formatUIDSet(nums[from:to])))
	}
	if want["COUNT"] {
		fmt.Fprintf(&b, " COUNT %d", len(nums))
	}
	if highestModSeq > 0 {
		fmt.Fprintf(&b, " MODSEQ %d", highestModSeq) // RFC 7162 §3.1.9
	}
	b.WriteString("\r\n")
	return s.write([]byte(b.String()))
}

// newSearchEnv is the environment for searching the selected mailbox.
func (s *session) newSearchEnv() searchEnv {
	sel := s.sel
	ev := searchEnv{count: uint32(len(sel.msgs)), maxUID: sel.maxUID(), saved: make(map[uint32]bool, len(s.searchRes)), recent: sel.recent}
	for _, u := range s.searchRes {
		ev.saved[u] = true
	}
	return ev
}

// searchEnv is the message a search program is evaluated against.
type searchEnv struct {
	count, maxUID uint32
	saved         map[uint32]bool // UIDs of "$"
	recent        map[uint32]bool // UIDs \Recent to the session
	seq           uint32
	m             mailstore.Message
	raw           []byte
	parsed        *imapmsg.Message
}

func (ev *searchEnv) msg() *imapmsg.Message {
	if ev.parsed == nil {
		ev.parsed = imapmsg.Parse(ev.raw)
	}
	return ev.parsed
}

// day truncates t to its calendar date in its own zone, as UTC midnight:
// RFC 3501 dates disregard time and timezone.
func day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (ev *searchEnv) sentDate() (time.Time, bool) {
	vals := ev.msg().HeaderValues("Date")
	if len(vals) == 0 {
		return time.Time{}, false
	}
	t, err := mail.ParseDate(vals[0])
	if err != nil {
		return time.Time{}, false
	}
	return day(t), true
}

func (ev *searchEnv) match(k *searchKey) bool {
	switch k.op {
	case opAll:
		return true
	case opRecent:
		return ev.recent[ev.m.UID]
	case opAnd:
		for _, kid := range k.kids {
			if !ev.match(kid) {
				return false
			}
		}
		return true
	case opOr:
		return ev.match(k.kids[0]) || ev.match(k.kids[1])
	case opNot:
		return !ev.match(k.kids[0])
	case opSeq, opUID:
		switch {
		case k.set.saved:
			return ev.saved[ev.m.UID]
		case k.op == opSeq:
			// Numbers beyond the mailbox simply match nothing.
			return k.set.containsUID(ev.seq, ev.count)
		default:
			return k.set.containsUID(ev.m.UID, ev.maxUID)
		}
	case opFlag:
		return slices.ContainsFunc(ev.m.Flags, func(f string) bool { return strings.EqualFold(f, k.flag) })
	case opNotFlag:
		return !slices.ContainsFunc(ev.m.Flags, func(f string) bool { return strings.EqualFold(f, k.flag) })
	case opLarger:
		return ev.m.Size > k.n
	case opSmaller:
		return ev.m.Size < k.n
	case opBefore:
		return day(ev.m.InternalDate).Before(k.date)
	case opOn:
		return day(ev.m.InternalDate).Equal(k.date)
	case opSince:
		return !day(ev.m.InternalDate).Before(k.date)
	case opSentBefore, opSentOn, opSentSince:
		d, ok := ev.sentDate()
		if !ok {
			return false
		}
		switch k.op {
		case opSentBefore:
			return d.Before(k.date)
		case opSentOn:
			return d.Equal(k.date)
		default:
			return !d.Before(k.date)
		}
	case opModSeq:
		return ev.m.ModSeq >= uint64(k.n)
	case opSavedBefore, opSavedOn, opSavedSince:
		return matchSaveDate(k, ev.m)
	case opEmailID, opThreadID:
		return matchObjectID(k, ev.m)
	case opHeader:
		if k.addr {
			return ev.msg().HasAddress(k.field, k.value)
		}
		return ev.msg().HasHeader(k.field, k.value)
	case opBody, opText:
		if k.indexed {
			_, found := slices.BinarySearch(k.hits, ev.m.UID)
			return found
		}
		return ev.msg().BodyContains(k.value, k.op == opText)
	}
	return false
}

// useTextIndex answers the BODY and TEXT keys in k from the store's
// full-text index, one query per key and command instead of reading every
// blob. Keys the index cannot answer (ErrNoIndex: a needle shorter than
// its grain, say) are left to the scan.
func (s *session) useTextIndex(k *searchKey) error {
	if k.op != opBody && k.op != opText {
		for _, kid := range k.kids {
			if err := s.useTextIndex(kid); err != nil {
				return err
			}
		}
		return nil
	}
	field := mailstore.TextBody
	if k.op == opText {
		field = mailstore.TextAll
	}
	hits, err := s.store.SearchText(s.ctx, s.sel.owner, s.sel.info.ID, field, k.value)
	switch {
	case errors.Is(err, mailstore.ErrNoIndex):
		return nil
	case err != nil:
		return err
	}
	k.indexed, k.hits = true, hits
	return nil
}
