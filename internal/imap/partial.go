package imap

import (
	"slices"
	"strconv"
	"strings"
)

// partialFeature advertises PARTIAL (RFC 9394): the PARTIAL return option
// of SEARCH and SORT (parseReturnList) and the PARTIAL modifier of UID
// FETCH (parseFetchModifiers), which page through a result.
var partialFeature = feature{
	caps: func(s *session) []string { return []string{"PARTIAL"} },
}

// partialRange is a partial-range (RFC 9394 §4): 1-based positions in a
// result, counted from its end when last is set; lo <= hi.
type partialRange struct {
	lo, hi uint32
	last   bool
	text   string // canonical, nearest end first ("2:4", "-1:-3"), echoed in the response as Dovecot does
}

// parsePartialRange reads partial-range-first = nz-number ":" nz-number or
// partial-range-last = "-" nz-number ":" "-" nz-number. "500:400" is the
// same as "400:500".
func parsePartialRange(p *parser) (partialRange, error) {
	var r partialRange
	r.last = p.consume('-')
	a, err := p.number()
	if err != nil || a == 0 {
		return r, errSyntax("invalid PARTIAL range")
	}
	if err := p.expect(':'); err != nil {
		return r, errSyntax("invalid PARTIAL range")
	}
	if p.consume('-') != r.last {
		return r, errSyntax("PARTIAL range mixes signs")
	}
	b, err := p.number()
	if err != nil || b == 0 {
		return r, errSyntax("invalid PARTIAL range")
	}
	r.lo, r.hi = min(a, b), max(a, b)
	r.text = strconv.FormatUint(uint64(r.lo), 10) + ":" + strconv.FormatUint(uint64(r.hi), 10)
	if r.last {
		r.text = "-" + strings.Replace(r.text, ":", ":-", 1)
	}
	return r, nil
}

// window returns the part of n results the range names, as a half-open
// interval of indexes [from, to); from == to when none exist (RFC 9394
// §3.1: the results that are in the set, maybe none).
func (r partialRange) window(n int) (from, to int) {
	lo, hi := int(r.lo), int(r.hi)
	if r.last {
		lo, hi = n-hi+1, n-lo+1
	}
	from, to = max(lo-1, 0), min(hi, n)
	if from >= to {
		return 0, 0
	}
	return from, to
}

// partialItem renders the ESEARCH return data PARTIAL (range set), with
// NIL for an empty window (RFC 9394 §4 ret-data-partial).
func partialItem(r partialRange, set string) string {
	if set == "" {
		set = "NIL"
	}
	return "PARTIAL (" + r.text + " " + set + ")"
}

// parseReturnList reads the list of RETURN options of SEARCH or SORT,
// "(" [opt *(SP opt)] ")" (RFC 4731 §3.1, RFC 5267 §3.1, RFC 9394 §3.1),
// uppercased. A PARTIAL option's range comes back separately. PARTIAL may
// not be combined with ALL or given twice (RFC 9394 §3.1).
func parseReturnList(p *parser) ([]string, *partialRange, error) {
	var opts []string
	var partial *partialRange
	err := p.list(func() error {
		opt, err := p.atom()
		if err != nil {
			return err
		}
		opt = strings.ToUpper(opt)
		switch opt {
		case "MIN", "MAX", "ALL", "COUNT", "SAVE", "CONTEXT": // CONTEXT is a hint (RFC 5267 §4.2)
		case "UPDATE": // RFC 5267 §4.3, searchupdate.go
			if slices.Contains(opts, opt) {
				return errSyntax("UPDATE given twice")
			}
		case "PARTIAL":
			if partial != nil {
				return errSyntax("PARTIAL given twice")
			}
			if err := p.sp(); err != nil {
				return err
			}
			r, err := parsePartialRange(p)
			if err != nil {
				return err
			}
			partial = &r
		default:
			return errSyntax("unknown RETURN option %q", opt)
		}
		opts = append(opts, opt)
		return nil
	})
	if err == nil && partial != nil && slices.Contains(opts, "ALL") {
		err = errSyntax("PARTIAL and ALL cannot be combined")
	}
	return opts, partial, err
}

// returnWants is the set of RETURN options. Without a result option (MIN,
// MAX, ALL, COUNT, PARTIAL) ALL is meant (RFC 4731 §3.1 "RETURN ()"),
// except for SAVE alone, which answers nothing (RFC 5182 §2.4).
func returnWants(ret []string) map[string]bool {
	want := make(map[string]bool, len(ret)+1)
	for _, r := range ret {
		want[r] = true
	}
	result := want["MIN"] || want["MAX"] || want["ALL"] || want["COUNT"] || want["PARTIAL"]
	if !result && (!want["SAVE"] || want["UPDATE"]) {
		want["ALL"] = true
	}
	return want
}
