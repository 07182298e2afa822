package imap

import (
	"sort"
	"strconv"
	"strings"
)

// seqRange is one element of a sequence set; 0 stands for "*".
type seqRange struct{ lo, hi uint32 }

// seqSet is a parsed sequence-set (RFC 3501 §9): ranges in either
// direction, "*" for the largest number in use, or "$", the saved result
// of the last SEARCH (RFC 5182).
type seqSet struct {
	ranges []seqRange
	saved  bool // "$"
}

func isSeqSetChar(c byte) bool { return isDigit(c) || c == ':' || c == ',' || c == '*' }

func (p *parser) seqSet() (seqSet, error) {
	if p.consume('$') {
		return seqSet{saved: true}, nil
	}
	s, err := p.word(isSeqSetChar, "sequence set")
	if err != nil {
		return seqSet{}, err
	}
	return parseSeqSet(s)
}

func parseSeqSet(s string) (seqSet, error) {
	var set seqSet
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, ":")
		a, err := parseSeqNumber(lo)
		if err != nil {
			return seqSet{}, err
		}
		b := a
		if isRange {
			if b, err = parseSeqNumber(hi); err != nil {
				return seqSet{}, err
			}
		}
		set.ranges = append(set.ranges, seqRange{a, b})
	}
	return set, nil
}

func parseSeqNumber(s string) (uint32, error) {
	if s == "*" {
		return 0, nil
	}
	if s == "" || s[0] == '0' {
		return 0, errSyntax("invalid sequence number %q", s)
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, errSyntax("invalid sequence number %q", s)
	}
	return uint32(v), nil
}

// bounds returns the range with "*" replaced by star, low end first.
func (r seqRange) bounds(star uint32) (uint32, uint32) {
	lo, hi := r.lo, r.hi
	if lo == 0 {
		lo = star
	}
	if hi == 0 {
		hi = star
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return lo, hi
}

// seqNums resolves the set against n messages: sorted unique numbers.
// ok is false when a number is above n (RFC 3501 §9 requires valid numbers).
func (set seqSet) seqNums(n uint32) (nums []uint32, ok bool) {
	seen := make(map[uint32]bool)
	for _, r := range set.ranges {
		lo, hi := r.bounds(n)
		if hi > n || lo == 0 {
			return nil, false
		}
		for v := lo; v <= hi; v++ {
			if !seen[v] {
				seen[v] = true
				nums = append(nums, v)
			}
			if v == hi { // avoid overflow at MaxUint32
				break
			}
		}
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	return nums, true
}

// containsUID reports whether the UID set contains uid, with "*" being maxUID.
func (set seqSet) containsUID(uid, maxUID uint32) bool {
	for _, r := range set.ranges {
		lo, hi := r.bounds(maxUID)
		if uid >= lo && uid <= hi {
			return true
		}
	}
	return false
}

// formatUIDSet renders ascending numbers compactly ("1:3,7").
func formatUIDSet(nums []uint32) string {
	var sb strings.Builder
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.FormatUint(uint64(nums[i]), 10))
		if j > i {
			sb.WriteByte(':')
			sb.WriteString(strconv.FormatUint(uint64(nums[j]), 10))
		}
		i = j + 1
	}
	return sb.String()
}

// formatNumList renders numbers in the given order ("3,1,2"), for COPYUID
// where source and destination must correspond pairwise.
func formatNumList(nums []uint32) string {
	parts := make([]string, len(nums))
	for i, n := range nums {
		parts[i] = strconv.FormatUint(uint64(n), 10)
	}
	return strings.Join(parts, ",")
}
