package imap

import (
	"slices"
	"strings"
)

// notifyEvent is a set of NOTIFY events (RFC 5465 §5) Rookery reports.
type notifyEvent uint8

const (
	evMessageNew notifyEvent = 1 << iota
	evMessageExpunge
	evFlagChange
	evMailboxName
	evSubscriptionChange

	evMessage = evMessageNew | evMessageExpunge | evFlagChange
)

// notifyEventNames maps each event of RFC 5465 §8 to its bit; 0 marks the
// events Rookery does not report (it has no ANNOTATE or METADATA), which
// NOTIFY refuses with NO [BADEVENT] (§3.1).
var notifyEventNames = map[string]notifyEvent{
	"MESSAGENEW":            evMessageNew,
	"MESSAGEEXPUNGE":        evMessageExpunge,
	"FLAGCHANGE":            evFlagChange,
	"ANNOTATIONCHANGE":      0,
	"MAILBOXNAME":           evMailboxName,
	"SUBSCRIPTIONCHANGE":    evSubscriptionChange,
	"MAILBOXMETADATACHANGE": 0,
	"SERVERMETADATACHANGE":  0,
}

// badEventCode is the BADEVENT response code: it lists the events the
// server supports (RFC 5465 §3.1, §8).
const badEventCode = "BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)"

// notifyFilter is a mailbox specifier (RFC 5465 §6).
type notifyFilter uint8

const (
	filterSelected notifyFilter = iota + 1
	filterSelectedDelayed
	filterInboxes
	filterPersonal
	filterSubscribed
	filterSubtree
	filterMailboxes
)

var notifyFilterNames = map[string]notifyFilter{
	"SELECTED":         filterSelected,
	"SELECTED-DELAYED": filterSelectedDelayed,
	"INBOXES":          filterInboxes,
	"PERSONAL":         filterPersonal,
	"SUBSCRIBED":       filterSubscribed,
	"SUBTREE":          filterSubtree,
	"MAILBOXES":        filterMailboxes,
}

// notifyGroup is one event group: which mailboxes, which events.
type notifyGroup struct {
	filter notifyFilter
	names  []string // store names, for SUBTREE and MAILBOXES
	events notifyEvent
}

// notifySpec is a parsed NOTIFY SET.
type notifySpec struct {
	status bool // SET STATUS: send each mailbox's STATUS now
	// selected is the SELECTED or SELECTED-DELAYED group, or nil; fetch
	// are its MessageNew fetch attributes.
	selected *notifyGroup
	fetch    []fetchItem
	others   []notifyGroup
}

// parseNotify reads the arguments of NOTIFY after the command name and
// returns nil for NOTIFY NONE. decode turns a mailbox argument into a
// store name. Grammar errors and the combinations RFC 5465 §5 and §6.1
// forbid are BAD; events Rookery does not report are NO [BADEVENT], once
// the whole command has parsed.
func parseNotify(p *parser, decode func(string) (string, error)) (*notifySpec, error) {
	if err := p.sp(); err != nil {
		return nil, err
	}
	verb, err := p.atom()
	if err != nil {
		return nil, err
	}
	switch strings.ToUpper(verb) {
	case "NONE":
		return nil, p.end()
	case "SET":
	default:
		return nil, errSyntax("NOTIFY needs SET or NONE")
	}
	spec := &notifySpec{}
	unsupported := false
	for first := true; first || !p.atEnd(); first = false {
		if err := p.sp(); err != nil {
			return nil, err
		}
		if first && (p.peek() == 's' || p.peek() == 'S') {
			word, err := p.atom()
			if err != nil {
				return nil, err
			}
			if !strings.EqualFold(word, "STATUS") {
				return nil, errSyntax("expected STATUS or an event group")
			}
			spec.status = true
			if err := p.sp(); err != nil {
				return nil, err
			}
		}
		g, fetch, bad, err := parseNotifyGroup(p, decode)
		if err != nil {
			return nil, err
		}
		unsupported = unsupported || bad
		if g.filter == filterSelected || g.filter == filterSelectedDelayed {
			if spec.selected != nil {
				return nil, errBad("", "Only one SELECTED or SELECTED-DELAYED group is allowed") // RFC 5465 §6.1
			}
			spec.selected, spec.fetch = &g, fetch
			continue
		}
		spec.others = append(spec.others, g)
	}
	if unsupported {
		return nil, errNo(badEventCode, "Unsupported NOTIFY event")
	}
	return spec, nil
}

// parseNotifyGroup reads "(" filter SP events ")"; bad reports an event
// Rookery does not support.
func parseNotifyGroup(p *parser, decode func(string) (string, error)) (g notifyGroup, fetch []fetchItem, bad bool, err error) {
	if err := p.expect('('); err != nil {
		return g, nil, false, err
	}
	word, err := p.atom()
	if err != nil {
		return g, nil, false, err
	}
	g.filter = notifyFilterNames[strings.ToUpper(word)]
	switch g.filter {
	case 0:
		return g, nil, false, errSyntax("unknown NOTIFY mailbox filter %q", word)
	case filterSubtree, filterMailboxes:
		if err := p.sp(); err != nil {
			return g, nil, false, err
		}
		if g.names, err = parseNotifyMailboxes(p, decode); err != nil {
			return g, nil, false, err
		}
	}
	if err := p.sp(); err != nil {
		return g, nil, false, err
	}
	selected := g.filter == filterSelected || g.filter == filterSelectedDelayed
	if p.peek() != '(' {
		none, err := p.atom()
		if err != nil {
			return g, nil, false, err
		}
		if !strings.EqualFold(none, "NONE") {
			return g, nil, false, errSyntax("expected an event list or NONE")
		}
		return g, nil, false, p.expect(')')
	}
	var seen []string
	err = p.list(func() error {
		name, err := p.atom()
		if err != nil {
			return err
		}
		upper := strings.ToUpper(name)
		seen = append(seen, upper)
		ev, known := notifyEventNames[upper]
		if !known || ev == 0 {
			bad = true // event-ext or unimplemented: NO [BADEVENT]
		}
		g.events |= ev
		if upper == "MESSAGENEW" && p.i+1 < len(p.b) && p.b[p.i] == ' ' && p.b[p.i+1] == '(' {
			p.i++
			if !selected {
				return errBad("", "Fetch attributes are only allowed with SELECTED or SELECTED-DELAYED") // RFC 5465 §5.2
			}
			if fetch, err = parseFetchItems(p); err != nil {
				return err
			}
			for _, it := range fetch {
				if (it.kind == fetchSection || it.kind == fetchBinary) && !it.peek {
					return errBad("", "NOTIFY fetch attributes must not set \\Seen; use BODY.PEEK")
				}
			}
		}
		return nil
	})
	if err != nil {
		return g, nil, false, err
	}
	if err := p.expect(')'); err != nil {
		return g, nil, false, err
	}
	if err := checkNotifyEvents(seen, selected); err != nil {
		return g, nil, false, err
	}
	return g, fetch, bad, nil
}

// checkNotifyEvents applies RFC 5465 §5 and §6.1 to one group's events.
func checkNotifyEvents(events []string, selected bool) error {
	has := func(name string) bool { return slices.Contains(events, name) }
	if len(events) == 0 {
		return errSyntax("empty NOTIFY event list")
	}
	if has("MESSAGENEW") != has("MESSAGEEXPUNGE") {
		return errBad("", "MessageNew and MessageExpunge must be given together")
	}
	if (has("FLAGCHANGE") || has("ANNOTATIONCHANGE")) && !has("MESSAGENEW") {
		return errBad("", "FlagChange and AnnotationChange need MessageNew and MessageExpunge")
	}
	if selected {
		for _, e := range events {
			switch e {
			case "MESSAGENEW", "MESSAGEEXPUNGE", "FLAGCHANGE", "ANNOTATIONCHANGE":
			default:
				return errBad("", "Only message events are allowed with SELECTED or SELECTED-DELAYED")
			}
		}
	}
	return nil
}

// parseNotifyMailboxes reads one-or-more-mailbox: a mailbox or a
// parenthesized list of them.
func parseNotifyMailboxes(p *parser, decode func(string) (string, error)) ([]string, error) {
	one := func() (string, error) {
		raw, err := p.astring()
		if err != nil {
			return "", err
		}
		return decode(raw)
	}
	if p.peek() != '(' {
		name, err := one()
		return []string{name}, err
	}
	var names []string
	err := p.list(func() error {
		name, err := one()
		names = append(names, name)
		return err
	})
	if err == nil && len(names) == 0 {
		err = errSyntax("empty mailbox list")
	}
	return names, err
}
