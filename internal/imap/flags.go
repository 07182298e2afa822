package imap

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// mailboxFlags is the FLAGS list: system flags, then the keywords of known
// and msgs, sorted. known is a previous FLAGS list (or nil).
func mailboxFlags(known []string, msgs []mailstore.Message) []string {
	seen := make(map[string]bool, len(known)+len(systemFlags))
	var keywords []string
	for _, f := range systemFlags {
		seen[f] = true
	}
	add := func(f string) {
		if !seen[f] && f != `\Recent` {
			seen[f] = true
			keywords = append(keywords, f)
		}
	}
	for _, f := range known {
		add(f)
	}
	for _, m := range msgs {
		for _, f := range m.Flags {
			add(f)
		}
	}
	slices.Sort(keywords)
	return append(slices.Clone(systemFlags), keywords...)
}

// writeFlagsResponses renders the untagged FLAGS and PERMANENTFLAGS
// responses for the selected mailbox's announced flags.
func (sel *selected) writeFlagsResponses(b *strings.Builder) {
	fmt.Fprintf(b, "* FLAGS (%s)\r\n", strings.Join(sel.flags, " "))
	if sel.readOnly {
		b.WriteString("* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n")
	} else {
		fmt.Fprintf(b, "* OK [PERMANENTFLAGS (%s)] Flags permitted\r\n", strings.Join(permanentFlags(sel.flags, sel.rights), " "))
	}
}

// announceKeywords sends FLAGS and PERMANENTFLAGS again when msgs carry a
// keyword the client has not been told about, whoever set it: a keyword
// must not appear in a FETCH before a FLAGS response lists it (RFC 9051
// §7.3.5, RFC 3501 §7.2.6). Callers pass every message they are about to
// report or add to the session's view.
func (s *session) announceKeywords(msgs []mailstore.Message) error {
	sel := s.sel
	known := make(map[string]bool, len(sel.flags))
	for _, f := range sel.flags {
		known[f] = true
	}
	fresh := false
	for _, m := range msgs {
		for _, f := range m.Flags {
			if !known[f] && f != `\Recent` {
				fresh = true
			}
		}
	}
	if !fresh {
		return nil
	}
	sel.flags = mailboxFlags(sel.flags, msgs)
	var b strings.Builder
	sel.writeFlagsResponses(&b)
	return s.write([]byte(b.String()))
}

// flagsAfter is what a client expects a message's flags to be after the
// stores reqs, from the flags cur it was told: flag names compare without
// case, as the store matches them.
func flagsAfter(cur []string, reqs []mailstore.ConditionalFlags) []string {
	next := slices.Clone(cur)
	has := func(list []string, f string) bool {
		return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, f) })
	}
	for _, r := range reqs {
		switch r.Op {
		case mailstore.FlagsReplace:
			next = slices.Clone(r.Flags)
		case mailstore.FlagsAdd:
			for _, f := range r.Flags {
				if !has(next, f) {
					next = append(next, f)
				}
			}
		case mailstore.FlagsRemove:
			next = slices.DeleteFunc(next, func(f string) bool { return has(r.Flags, f) })
		}
	}
	return next
}

// sameFlags reports whether a and b hold the same flags, in any order and
// case.
func sameFlags(a, b []string) bool {
	fold := func(l []string) []string {
		out := make([]string, len(l))
		for i, f := range l {
			out[i] = strings.ToLower(f)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(fold(a), fold(b))
}
