package imap

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// sortFeature: SORT and UID SORT (RFC 5256 §3, §4), with the RETURN
// options of ESORT (RFC 5267, esort.go) and the DISPLAYFROM and DISPLAYTO
// keys of SORT=DISPLAY (RFC 5957).
var sortFeature = feature{
	caps: func(s *session) []string { return []string{"SORT", "SORT=DISPLAY"} },
	commands: map[string]commandSpec{
		"SORT":     {states: stateSelected, handle: handleSort, noExpunge: true},
		"UID SORT": {states: stateSelected, handle: handleSort},
	},
}

// sortKey is one sort criterion; reverse comes from a preceding REVERSE.
type sortKey struct {
	name    string // ARRIVAL, CC, DATE, FROM, SIZE, SUBJECT, TO, DISPLAYFROM, DISPLAYTO
	reverse bool
}

// needsHeader: the address and subject keys parse the header; DATE
// needs only the sent date, which the store usually has (needsSent).
func (k sortKey) needsHeader() bool {
	switch k.name {
	case "ARRIVAL", "SIZE", "DATE":
		return false
	}
	return true
}

func (k sortKey) needsSent() bool { return k.name == "DATE" }

// parseSortCriteria reads "(" sort-criterion *(SP sort-criterion) ")",
// where sort-criterion = ["REVERSE" SP] sort-key (RFC 5256 §5).
func parseSortCriteria(p *parser) ([]sortKey, error) {
	var keys []sortKey
	err := p.list(func() error {
		w, err := p.atom()
		if err != nil {
			return err
		}
		k := sortKey{name: upperASCII(w)}
		if k.name == "REVERSE" {
			if err := p.sp(); err != nil {
				return err
			}
			if w, err = p.atom(); err != nil {
				return err
			}
			k = sortKey{name: upperASCII(w), reverse: true}
		}
		switch k.name {
		case "ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO", "DISPLAYFROM", "DISPLAYTO":
			keys = append(keys, k)
			return nil
		}
		return errSyntax("unknown sort key %q", w)
	})
	if err == nil && len(keys) == 0 {
		err = errSyntax("empty sort criteria")
	}
	return keys, err
}

func handleSort(s *session, c *command) error {
	p := c.p
	if err := p.sp(); err != nil {
		return err
	}
	ret, partial, esort, err := parseSortReturn(p) // ESORT (esort.go)
	if err != nil {
		return err
	}
	updating := slices.Contains(ret, "UPDATE")
	if updating && s.updateTagInUse(c.tag) {
		return errBad("", "Tag in use by a search with UPDATE") // RFC 5267 §4.3
	}
	if slices.Contains(ret, "SAVE") {
		s.searchRes = nil // a failed SORT leaves "$" empty (RFC 5182 §2.1)
	}
	keys, err := parseSortCriteria(p)
	if err != nil {
		return err
	}
	if err := parseSortCharset(p); err != nil {
		return err
	}
	prog, err := parseSortSearch(p)
	if err != nil {
		return err
	}
	withModSeq := prog.key.usesModSeq()
	if withModSeq {
		if err := s.enableCondstore(); err != nil { // RFC 7162 §3.1
			return err
		}
	}
	needHeader, needSent := slices.ContainsFunc(keys, sortKey.needsHeader), slices.ContainsFunc(keys, sortKey.needsSent)
	msgs, err := s.matchForSort(prog, needHeader, needSent)
	if err != nil {
		return err
	}
	sortMessages(msgs, keys)
	var highest uint64 // RFC 7162 §3.1.5: the highest mod-sequence returned
	if withModSeq {
		highest = sortModSeq(msgs, ret, esort)
	}
	if esort {
		if err := s.writeESort(c, ret, partial, msgs, highest); err != nil || !updating {
			return err
		}
		uids := make([]uint32, len(msgs))
		for i, sm := range msgs {
			uids[i] = sm.m.UID
		}
		return s.startSearchUpdate(c, prog.key, uids, &sortUpdate{keys: keys, needHeader: needHeader, needSent: needSent, order: msgs})
	}
	var b strings.Builder
	b.WriteString("* SORT")
	for _, sm := range msgs {
		b.WriteByte(' ')
		b.WriteString(strconv.FormatUint(uint64(sm.num(c.uid)), 10))
	}
	if highest > 0 {
		fmt.Fprintf(&b, " (MODSEQ %d)", highest)
	}
	b.WriteString("\r\n")
	return s.write([]byte(b.String()))
}

// sortModSeq is the highest mod-sequence among the messages a SORT
// returns: with ESORT MIN/MAX alone, only those two (RFC 7162 §3.1.5).
func sortModSeq(msgs []*sortMsg, ret []string, esort bool) uint64 {
	if len(msgs) == 0 {
		return 0
	}
	if esort && len(ret) > 0 && !slices.Contains(ret, "ALL") && !slices.Contains(ret, "COUNT") &&
		(slices.Contains(ret, "MIN") || slices.Contains(ret, "MAX")) {
		var h uint64
		if slices.Contains(ret, "MIN") {
			h = msgs[0].m.ModSeq
		}
		if slices.Contains(ret, "MAX") {
			h = max(h, msgs[len(msgs)-1].m.ModSeq)
		}
		return h
	}
	var h uint64
	for _, sm := range msgs {
		h = max(h, sm.m.ModSeq)
	}
	return h
}

// sortMessages orders msgs (given in sequence order) by keys; the stable
// sort leaves ties in sequence order (RFC 5256 §3).
func sortMessages(msgs []*sortMsg, keys []sortKey) {
	type keyed struct {
		sm   *sortMsg
		strs map[string]string
	}
	// String keys are computed once per message, not per comparison.
	ks := make([]keyed, len(msgs))
	for i, sm := range msgs {
		ks[i] = keyed{sm: sm, strs: make(map[string]string, len(keys))}
		for _, k := range keys {
			switch k.name {
			case "CC":
				ks[i].strs["CC"] = upperASCII(sm.hdr.FirstMailbox("Cc"))
			case "FROM":
				ks[i].strs["FROM"] = upperASCII(sm.hdr.FirstMailbox("From"))
			case "TO":
				ks[i].strs["TO"] = upperASCII(sm.hdr.FirstMailbox("To"))
			case "SUBJECT":
				ks[i].strs["SUBJECT"] = sm.subjKey
			case "DISPLAYFROM": // RFC 5957 §3
				ks[i].strs["DISPLAYFROM"] = upperASCII(sm.hdr.DisplayName("From"))
			case "DISPLAYTO":
				ks[i].strs["DISPLAYTO"] = upperASCII(sm.hdr.DisplayName("To"))
			}
		}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		for _, k := range keys {
			var r int
			switch k.name {
			case "ARRIVAL":
				r = a.sm.m.InternalDate.Compare(b.sm.m.InternalDate)
			case "DATE":
				r = a.sm.sent.Compare(b.sm.sent)
			case "SIZE":
				r = cmp.Compare(a.sm.m.Size, b.sm.m.Size)
			default:
				r = strings.Compare(a.strs[k.name], b.strs[k.name])
			}
			if k.reverse {
				r = -r
			}
			if r != 0 {
				return r
			}
		}
		return 0
	})
	for i := range ks {
		msgs[i] = ks[i].sm
	}
}
