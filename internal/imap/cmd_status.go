package imap

import (
	"fmt"
	"slices"
	"strings"
)

// statusFeature: STATUS (RFC 3501 §6.3.10) with SIZE and DELETED (RFC 8438, RFC 9051).
var statusFeature = feature{
	caps: func(s *session) []string { return []string{"STATUS=SIZE"} },
	commands: map[string]commandSpec{
		"STATUS": {states: stateAuthOrSelect, handle: handleStatus},
	},
}

func handleStatus(s *session, c *command) error {
	if err := c.p.sp(); err != nil {
		return err
	}
	name, err := s.mailboxArg(c.p)
	if err != nil {
		return err
	}
	if err := c.p.sp(); err != nil {
		return err
	}
	var items []string
	err = c.p.list(func() error {
		a, err := c.p.atom()
		items = append(items, strings.ToUpper(a))
		return err
	})
	if err != nil {
		return err
	}
	if err := c.p.end(); err != nil {
		return err
	}
	if err := checkStatusItems(items); err != nil {
		return err
	}
	ref, err := s.resolveFor(name, rightRead) // RFC 4314 §4
	if err != nil {
		return err
	}
	return s.writeStatus(ref, items)
}

// writeStatus sends "* STATUS name (item value ...)"; LIST-STATUS uses it too.
func (s *session) writeStatus(ref mailboxRef, items []string) error {
	if slices.Contains(items, "HIGHESTMODSEQ") {
		if err := s.enableCondstore(); err != nil { // RFC 7162 §3.1
			return err
		}
	}
	st, err := ref.store.Status(s.ctx, ref.owner, ref.info.ID)
	if err != nil {
		return err
	}
	var out []string
	for _, it := range items {
		var v any
		switch it {
		case "MESSAGES":
			v = st.Messages
		case "UIDNEXT":
			v = st.UIDNext
		case "UIDVALIDITY":
			v = st.UIDValidity
		case "UNSEEN":
			v = st.Unseen
		case "RECENT":
			v = st.Recent // not yet claimed by any session (recent.go)
		case "SIZE":
			v = st.Size
		case "DELETED":
			v = st.Deleted
		case "HIGHESTMODSEQ":
			v = st.HighestModSeq // RFC 7162 §3.1.7
		case "DELETED-STORAGE":
			if v, err = s.deletedStorage(ref); err != nil { // quota.go
				return err
			}
		case "MAILBOXID":
			out = append(out, "MAILBOXID ("+mailboxObjectID(st.MailboxInfo)+")") // RFC 8474 §4.3
			continue
		default:
			return errBad("", "Unknown STATUS item "+it)
		}
		out = append(out, fmt.Sprintf("%s %d", it, v))
	}
	return s.writef("* STATUS %s (%s)", s.mailboxName(s.clientName(ref.owner, st.Name)), strings.Join(out, " "))
}

func checkStatusItems(items []string) error {
	if len(items) == 0 {
		return errSyntax("STATUS needs at least one item")
	}
	for _, it := range items {
		switch it {
		case "MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "RECENT", "SIZE", "DELETED", "DELETED-STORAGE", "HIGHESTMODSEQ", "MAILBOXID":
		default:
			return errBad("", "Unknown STATUS item "+it)
		}
	}
	return nil
}
