package imap

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// esortFeature advertises ESORT (RFC 5267 §3): SORT RETURN (...) answered
// with ESEARCH, in cmd_sort.go.
var esortFeature = feature{
	caps: func(s *session) []string { return []string{"ESORT"} },
}

// parseSortReturn reads an optional "RETURN (opts) SP" before the sort
// criteria (RFC 5267 §3.1). ok reports whether RETURN was given.
func parseSortReturn(p *parser) (opts []string, partial *partialRange, ok bool, err error) {
	save := p.i
	if w, _ := p.atom(); !strings.EqualFold(w, "RETURN") {
		p.i = save
		return nil, nil, false, nil
	}
	if err := p.sp(); err != nil {
		return nil, nil, true, err
	}
	opts, partial, err = parseReturnList(p) // partial.go
	if err != nil {
		return nil, nil, true, err
	}
	return opts, partial, true, p.sp()
}

// writeESort answers SORT RETURN with ESEARCH (RFC 5267 §3.2): MIN and MAX
// are the first and last in sort order, ALL lists the result in sort
// order, PARTIAL a page of it (RFC 9394). SAVE keeps the result for "$" as
// SEARCH does (RFC 5182 §2.4, RFC 9394 §3.2).
func (s *session) writeESort(c *command, ret []string, partial *partialRange, msgs []*sortMsg, modseq uint64) error {
	want := returnWants(ret)
	var page []*sortMsg
	if partial != nil {
		from, to := partial.window(len(msgs))
		page = msgs[from:to]
	}
	if want["SAVE"] {
		var uids []uint32
		switch {
		case len(msgs) == 0:
		case partial != nil && !want["COUNT"]:
			for _, sm := range page {
				uids = append(uids, sm.m.UID)
			}
			if want["MIN"] {
				uids = append(uids, msgs[0].m.UID)
			}
			if want["MAX"] {
				uids = append(uids, msgs[len(msgs)-1].m.UID)
			}
		case want["MIN"] || want["MAX"]:
			if want["MIN"] {
				uids = append(uids, msgs[0].m.UID)
			}
			if want["MAX"] {
				uids = append(uids, msgs[len(msgs)-1].m.UID)
			}
		default:
			for _, sm := range msgs {
				uids = append(uids, sm.m.UID)
			}
		}
		slices.Sort(uids)
		s.searchRes = slices.Compact(uids) // "$" is a set, ascending
		if !want["ALL"] && !want["MIN"] && !want["MAX"] && !want["COUNT"] && partial == nil {
			return nil // SAVE alone
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "* ESEARCH (TAG %s)", quoteIMAP(c.tag, false))
	if c.uid {
		b.WriteString(" UID")
	}
	if len(msgs) > 0 {
		if want["MIN"] {
			fmt.Fprintf(&b, " MIN %d", msgs[0].num(c.uid))
		}
		if want["MAX"] {
			fmt.Fprintf(&b, " MAX %d", msgs[len(msgs)-1].num(c.uid))
		}
		if want["ALL"] {
			nums := make([]uint32, len(msgs))
			for i, sm := range msgs {
				nums[i] = sm.num(c.uid)
			}
			b.WriteString(" ALL ")
			b.WriteString(formatOrderedSet(nums))
		}
	}
	if partial != nil {
		nums := make([]uint32, len(page))
		for i, sm := range page {
			nums[i] = sm.num(c.uid)
		}
		b.WriteString(" " + partialItem(*partial, formatOrderedSet(nums)))
	}
	if want["COUNT"] {
		fmt.Fprintf(&b, " COUNT %d", len(msgs))
	}
	if modseq > 0 {
		fmt.Fprintf(&b, " MODSEQ %d", modseq) // RFC 7162 §3.1.5
	}
	b.WriteString("\r\n")
	return s.write([]byte(b.String()))
}

// formatOrderedSet writes nums as a sequence-set that keeps their order:
// only ascending runs of consecutive numbers become ranges ("3,1:2,7").
func formatOrderedSet(nums []uint32) string {
	var b strings.Builder
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(nums[i]), 10))
		if j > i {
			b.WriteByte(':')
			b.WriteString(strconv.FormatUint(uint64(nums[j]), 10))
		}
		i = j + 1
	}
	return b.String()
}
