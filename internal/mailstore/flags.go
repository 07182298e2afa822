package mailstore

import (
	"fmt"
	"slices"
	"strings"
)

// systemFlags maps the lower-case form of each storable system flag to its
// canonical spelling (RFC 3501 §2.3.2). \Recent is session state, never
// stored.
var systemFlags = map[string]string{
	`\seen`: `\Seen`, `\answered`: `\Answered`, `\flagged`: `\Flagged`,
	`\deleted`: `\Deleted`, `\draft`: `\Draft`,
}

const recentFlag = `\recent`

// NormalizeFlags returns the flags with system flags in canonical case,
// keywords as given but de-duplicated case-insensitively (the first
// spelling wins), \Recent dropped, sorted. Keywords must be atoms (RFC 3501
// §9 flag-keyword); unknown backslash flags are rejected because a server
// must not invent flag-extensions (RFC 3501 §9). Engines store only what it
// returns, so every engine keeps the same flags for the same request.
func NormalizeFlags(flags []string) ([]string, error) {
	out := make([]string, 0, len(flags))
	seen := make(map[string]bool, len(flags))
	for _, f := range flags {
		lf := strings.ToLower(f)
		if lf == recentFlag || seen[lf] {
			continue
		}
		if strings.HasPrefix(f, `\`) {
			c, ok := systemFlags[lf]
			if !ok {
				return nil, fmt.Errorf("invalid flag %q", f)
			}
			f = c
		} else if !isAtom(f) {
			return nil, fmt.Errorf("invalid keyword %q", f)
		}
		seen[lf] = true
		out = append(out, f)
	}
	slices.Sort(out)
	return out, nil
}

// isAtom reports whether s is an IMAP atom (RFC 3501 §9 ATOM-CHAR).
func isAtom(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return false
		}
	}
	return true
}

// ApplyFlags combines current flags with a change, both as NormalizeFlags
// returns them, and reports whether anything changed.
func ApplyFlags(cur []string, op FlagOp, change []string) ([]string, bool) {
	var next []string
	switch op {
	case FlagsReplace:
		next = change
	case FlagsAdd:
		next = slices.Clone(cur)
		for _, f := range change {
			if !containsFold(next, f) {
				next = append(next, f)
			}
		}
		slices.Sort(next)
	case FlagsRemove:
		for _, f := range cur {
			if !containsFold(change, f) {
				next = append(next, f)
			}
		}
	}
	if next == nil {
		next = []string{}
	}
	return next, !slices.Equal(cur, next)
}

func containsFold(list []string, f string) bool {
	for _, x := range list {
		if strings.EqualFold(x, f) {
			return true
		}
	}
	return false
}

// JoinFlags encodes flags, as NormalizeFlags returns them, as one
// space-separated string, the form engines store in one column;
// NormalizeFlags guarantees no flag contains a space.
func JoinFlags(flags []string) string { return strings.Join(flags, " ") }

// SplitFlags decodes what JoinFlags returns; "" is no flags (non-nil).
func SplitFlags(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, " ")
}
