package imap

import (
	"sort"
	"strings"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// subscriptionView is what LSUB and LIST's SUBSCRIBED options need beyond
// the mailboxes: the subscriptions, which may name mailboxes that no
// longer exist (RFC 3501 §6.3.6), and the names above them.
type subscriptionView struct {
	names map[string]bool // the user's subscriptions
	below map[string]bool // names with a subscribed descendant
	// belowUnmatched: names with a subscribed descendant that no pattern
	// matches, the ones RECURSIVEMATCH reports with CHILDINFO (RFC 5258 §3.5).
	belowUnmatched map[string]bool
}

// subscriptionView reads the user's subscriptions; shared mailboxes count
// as subscribed (sharedListing).
func (s *session) subscriptionView(patterns []string, shared []mailstore.MailboxInfo) (*subscriptionView, error) {
	subs, err := s.store.Subscriptions(s.ctx, s.user)
	if err != nil {
		return nil, err
	}
	for _, b := range shared {
		subs = append(subs, b.Name)
	}
	v := &subscriptionView{names: make(map[string]bool, len(subs)), below: make(map[string]bool), belowUnmatched: make(map[string]bool)}
	for _, n := range subs {
		v.names[n] = true
		unmatched := !matchAny(patterns, n)
		for i := strings.LastIndex(n, mailstore.Separator); i > 0; i = strings.LastIndex(n[:i], mailstore.Separator) {
			v.below[n[:i]] = true
			if unmatched {
				v.belowUnmatched[n[:i]] = true
			}
		}
	}
	return v, nil
}

// addEntries adds entries for the subscribed names, and the levels above
// them, that are neither mailboxes nor their parents, keeping entries sorted.
func (v *subscriptionView) addEntries(entries []listEntry, nonExistent string) []listEntry {
	have := make(map[string]bool, len(entries))
	for _, e := range entries {
		have[e.name] = true
	}
	n := len(entries)
	for _, set := range []map[string]bool{v.names, v.below} {
		for name := range set {
			if !have[name] {
				have[name] = true
				entries = append(entries, listEntry{name: name, attrs: []string{nonExistent}})
			}
		}
	}
	if len(entries) > n {
		sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	}
	return entries
}

// lsubParent: RFC 3501 §6.3.9 — when "%" ends the pattern, LSUB also
// returns the matching levels above subscribed names, \Noselect when not
// subscribed themselves.
func (v *subscriptionView) lsubParent(name string, patterns []string) bool {
	if !v.below[name] {
		return false
	}
	for _, p := range patterns {
		if strings.HasSuffix(p, "%") && matchPattern(p, name) {
			return true
		}
	}
	return false
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if matchPattern(p, name) {
			return true
		}
	}
	return false
}
