package imap

import (
	"sort"
	"strings"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// listFeature: LIST and LSUB (RFC 3501 §6.3.8-9) with CHILDREN (RFC 3348),
// SPECIAL-USE attributes (RFC 6154), LIST-EXTENDED (RFC 5258) and
// LIST-STATUS (RFC 5819).
var listFeature = feature{
	caps: func(s *session) []string {
		return []string{"SPECIAL-USE", "LIST-EXTENDED", "LIST-STATUS"}
	},
	commands: map[string]commandSpec{
		"LIST": {states: stateAuthOrSelect, handle: handleList},
		"LSUB": {states: stateAuthOrSelect, handle: handleLsub},
	},
}

// listOptions are LIST-EXTENDED selection and return options.
type listOptions struct {
	extended       bool // any extended syntax was used
	subscribed     bool // SUBSCRIBED selection
	recursiveMatch bool
	specialUseOnly bool // SPECIAL-USE selection
	retSubscribed  bool
	retStatus      []string // STATUS items, nil when not asked
	lsub           bool
}

func handleLsub(s *session, c *command) error {
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
	return s.list(ref, []string{pat}, listOptions{lsub: true})
}

func handleList(s *session, c *command) error {
	p := c.p
	if err := p.sp(); err != nil {
		return err
	}
	var opts listOptions
	if p.peek() == '(' {
		opts.extended = true
		err := p.list(func() error {
			o, err := p.atom()
			switch strings.ToUpper(o) {
			case "SUBSCRIBED":
				opts.subscribed, opts.retSubscribed = true, true
			case "RECURSIVEMATCH":
				opts.recursiveMatch = true
			case "SPECIAL-USE":
				opts.specialUseOnly = true
			case "REMOTE":
			default:
				if err == nil {
					err = errSyntax("unknown LIST selection option %q", o)
				}
			}
			return err
		})
		if err != nil {
			return err
		}
		if opts.recursiveMatch && !opts.subscribed {
			return errBad("", "RECURSIVEMATCH needs another selection option") // RFC 5258 §3.1
		}
		if err := p.sp(); err != nil {
			return err
		}
	}
	ref, err := p.astring()
	if err != nil {
		return err
	}
	if err := p.sp(); err != nil {
		return err
	}
	var pats []string
	if p.peek() == '(' {
		opts.extended = true
		err = p.list(func() error {
			pat, err := p.listMailbox()
			pats = append(pats, pat)
			return err
		})
	} else {
		var pat string
		pat, err = p.listMailbox()
		pats = append(pats, pat)
	}
	if err != nil {
		return err
	}
	if p.consume(' ') {
		if err := parseListReturn(p, &opts); err != nil {
			return err
		}
	}
	if err := p.end(); err != nil {
		return err
	}
	return s.list(ref, pats, opts)
}

// parseListReturn reads RETURN (...) (RFC 5258 §3.2, RFC 5819).
func parseListReturn(p *parser, opts *listOptions) error {
	w, err := p.atom()
	if err != nil || !strings.EqualFold(w, "RETURN") {
		return errSyntax("expected RETURN")
	}
	if err := p.sp(); err != nil {
		return err
	}
	opts.extended = true
	return p.list(func() error {
		o, err := p.atom()
		if err != nil {
			return err
		}
		switch strings.ToUpper(o) {
		case "SUBSCRIBED":
			opts.retSubscribed = true
		case "CHILDREN", "SPECIAL-USE":
			// Always returned.
		case "STATUS":
			if err := p.sp(); err != nil {
				return err
			}
			opts.retStatus = []string{}
			err := p.list(func() error {
				it, err := p.atom()
				opts.retStatus = append(opts.retStatus, strings.ToUpper(it))
				return err
			})
			if err != nil {
				return err
			}
			return checkStatusItems(opts.retStatus)
		default:
			return errSyntax("unknown LIST return option %q", o)
		}
		return nil
	})
}

func (s *session) list(ref string, pats []string, opts listOptions) error {
	resp := "LIST"
	if opts.lsub {
		resp = "LSUB"
	}
	if len(pats) == 1 && pats[0] == "" && !opts.lsub && !opts.extended {
		// RFC 3501 §6.3.8: the hierarchy delimiter and root of ref.
		root := ""
		if i := strings.Index(ref, mailstore.Separator); i >= 0 {
			root = ref[:i+1]
		}
		return s.writef(`* LIST (\Noselect) "%s" %s`, mailstore.Separator, s.quote(root))
	}
	var patterns []string
	for _, pat := range pats {
		if ref != "" && !strings.HasPrefix(pat, mailstore.Separator) {
			pat = ref + pat
		}
		pattern, err := s.decodeMailbox(pat)
		if err != nil {
			continue // matches no name (errNotMUTF7)
		}
		patterns = append(patterns, pattern)
	}
	boxes, err := s.store.Mailboxes(s.ctx, s.user)
	if err != nil {
		return err
	}
	sharedBoxes, sharedRefs, err := s.sharedListing()
	if err != nil {
		return err
	}
	boxes = append(boxes, sharedBoxes...)
	nonExistent := `\Noselect`
	if opts.extended || s.rev2 {
		nonExistent = `\NonExistent` // RFC 5258 §3.4, RFC 9051 §7.3.1
	}
	entries := listEntries(boxes, nonExistent)
	var subs *subscriptionView // list_subscribed.go
	if opts.lsub || opts.subscribed || opts.retSubscribed {
		if subs, err = s.subscriptionView(patterns, sharedBoxes); err != nil {
			return err
		}
		if opts.lsub || opts.subscribed {
			entries = subs.addEntries(entries, nonExistent)
		}
	}
	for i, e := range entries {
		if err := s.interrupted(i); err != nil {
			return err
		}
		if !matchAny(patterns, e.name) {
			continue
		}
		subscribed := e.info != nil && e.info.Subscribed || subs != nil && subs.names[e.name]
		attrs := e.attrs
		var extra string
		switch {
		case opts.lsub && !subscribed:
			if !subs.lsubParent(e.name, patterns) {
				continue
			}
			attrs = []string{`\Noselect`}
		case opts.specialUseOnly && (e.info == nil || e.info.SpecialUse == ""):
			continue
		case opts.subscribed && !subscribed:
			if !opts.recursiveMatch || !subs.belowUnmatched[e.name] {
				continue
			}
			extra = ` ("CHILDINFO" ("SUBSCRIBED"))`
		}
		if opts.retSubscribed && subscribed {
			attrs = append(attrs[:len(attrs):len(attrs)], `\Subscribed`)
		}
		if err := s.writef(`* %s (%s) "%s" %s%s`, resp, strings.Join(attrs, " "), mailstore.Separator, s.mailboxName(e.name), extra); err != nil {
			return err
		}
		if ref := s.listRef(e.info, sharedRefs); opts.retStatus != nil && ref.rights.has(rightRead) {
			// RFC 5819: STATUS follows the LIST line of each selectable
			// mailbox; RFC 4314 §4: STATUS needs "r".
			if err := s.writeStatus(ref, opts.retStatus); err != nil {
				return err
			}
		}
	}
	return nil
}

type listEntry struct {
	name  string
	info  *mailstore.MailboxInfo // nil: a parent that does not exist
	attrs []string
}

// listEntries computes LIST attributes, adding entries for parents that do
// not exist but have children (RFC 3501 §6.3.8), marked nonExistent.
func listEntries(boxes []mailstore.MailboxInfo, nonExistent string) []listEntry {
	exists := make(map[string]*mailstore.MailboxInfo, len(boxes))
	hasChildren := make(map[string]bool)
	for i := range boxes {
		b := &boxes[i]
		exists[b.Name] = b
		markAncestors(b.Name, hasChildren)
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
	out := make([]listEntry, 0, len(names))
	for _, n := range names {
		b := exists[n]
		var attrs []string
		if b == nil {
			attrs = append(attrs, nonExistent)
		}
		if hasChildren[n] {
			attrs = append(attrs, `\HasChildren`)
		} else {
			attrs = append(attrs, `\HasNoChildren`)
		}
		if b != nil && b.SpecialUse != "" {
			attrs = append(attrs, b.SpecialUse)
		}
		out = append(out, listEntry{name: n, info: b, attrs: attrs})
	}
	return out
}

// markAncestors marks every ancestor of name as having children. It walks
// up from the nearest parent and stops at one already marked, whose
// ancestors are marked too: the work is linear in the names' total length,
// however deep they are.
func markAncestors(name string, hasChildren map[string]bool) {
	for i := strings.LastIndex(name, mailstore.Separator); i >= 0; i = strings.LastIndex(name, mailstore.Separator) {
		name = name[:i]
		if hasChildren[name] {
			return
		}
		hasChildren[name] = true
	}
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
