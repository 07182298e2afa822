package imap

import (
	"sort"
	"strings"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// listFeature: LIST and LSUB (RFC 3501 §6.3.8-9) with CHILDREN (RFC 3348)
// and SPECIAL-USE attributes (RFC 6154).
var listFeature = feature{
	caps: func(s *session) []string { return []string{"SPECIAL-USE"} },
	commands: map[string]commandSpec{
		"LIST": {states: stateAuthOrSelect, handle: handleList},
		"LSUB": {states: stateAuthOrSelect, handle: handleLsub},
	},
}

func handleList(s *session, c *command) error { return s.list(c, false) }
func handleLsub(s *session, c *command) error { return s.list(c, true) }

func (s *session) list(c *command, lsub bool) error {
	if err := c.p.sp(); err != nil {
		return err
	}
	ref, err := c.p.astring()
	if err != nil {
		return err
	}
	if err := c.p.sp(); err != nil {
		return err
	}
	pat, err := c.p.listMailbox()
	if err != nil {
		return err
	}
	if err := c.p.end(); err != nil {
		return err
	}
	resp := "LIST"
	if lsub {
		resp = "LSUB"
	}
	if pat == "" && !lsub {
		// RFC 3501 §6.3.8: the hierarchy delimiter and root of ref.
		root := ""
		if i := strings.Index(ref, mailstore.Separator); i >= 0 {
			root = ref[:i+1]
		}
		return s.writef(`* LIST (\Noselect) "%s" %s`, mailstore.Separator, s.quote(root))
	}
	if ref != "" && !strings.HasPrefix(pat, mailstore.Separator) {
		pat = ref + pat
	}
	pattern, err := s.decodeMailbox(pat)
	if err != nil {
		return err
	}
	boxes, err := s.store.Mailboxes(s.ctx, s.user)
	if err != nil {
		return err
	}
	for _, e := range listEntries(boxes, lsub) {
		if !matchPattern(pattern, e.name) {
			continue
		}
		if err := s.writef(`* %s (%s) "%s" %s`, resp, strings.Join(e.attrs, " "), mailstore.Separator, s.mailboxName(e.name)); err != nil {
			return err
		}
	}
	return nil
}

type listEntry struct {
	name  string
	attrs []string
}

// listEntries computes LIST attributes, adding \Noselect entries for
// parents that do not exist but have children (RFC 3501 §6.3.8).
func listEntries(boxes []mailstore.MailboxInfo, lsub bool) []listEntry {
	exists := make(map[string]*mailstore.MailboxInfo, len(boxes))
	hasChildren := make(map[string]bool)
	for i := range boxes {
		b := &boxes[i]
		exists[b.Name] = b
		parts := strings.Split(b.Name, mailstore.Separator)
		for j := 1; j < len(parts); j++ {
			hasChildren[strings.Join(parts[:j], mailstore.Separator)] = true
		}
	}
	names := make([]string, 0, len(exists)+len(hasChildren))
	for n := range exists {
		names = append(names, n)
	}
	for n := range hasChildren {
		if exists[n] == nil {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var out []listEntry
	for _, n := range names {
		b := exists[n]
		if lsub && (b == nil || !b.Subscribed) {
			continue
		}
		var attrs []string
		if b == nil {
			attrs = append(attrs, `\Noselect`)
		}
		if hasChildren[n] {
			attrs = append(attrs, `\HasChildren`)
		} else {
			attrs = append(attrs, `\HasNoChildren`)
		}
		if b != nil && b.SpecialUse != "" {
			attrs = append(attrs, b.SpecialUse)
		}
		out = append(out, listEntry{name: n, attrs: attrs})
	}
	return out
}

// matchPattern matches a LIST pattern: "*" matches anything, "%" anything
// but the hierarchy separator. The first level INBOX matches in any case.
func matchPattern(pattern, name string) bool {
	pattern = normalizeInbox(pattern)
	// dp[j]: pattern[:i] matches name[:j].
	dp := make([]bool, len(name)+1)
	dp[0] = true
	for i := 0; i < len(pattern); i++ {
		pc := pattern[i]
		next := make([]bool, len(name)+1)
		switch pc {
		case '*', '%':
			for j := 0; j <= len(name); j++ {
				if dp[j] {
					next[j] = true
				} else if j > 0 && next[j-1] && (pc == '*' || name[j-1] != mailstore.Separator[0]) {
					next[j] = true
				}
			}
		default:
			for j := 1; j <= len(name); j++ {
				next[j] = dp[j-1] && name[j-1] == pc
			}
		}
		dp = next
	}
	return dp[len(name)]
}
