package imap

import (
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rookery-mail/rookery/internal/imap/imapmsg"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

// searchFeature: SEARCH and UID SEARCH (RFC 3501 §6.4.4, §6.4.8).
var searchFeature = feature{
	commands: map[string]commandSpec{
		"SEARCH":     {states: stateSelected, handle: handleSearch, noExpunge: true},
		"UID SEARCH": {states: stateSelected, handle: handleSearch},
	},
}

func handleSearch(s *session, c *command) error {
	key, err := parseSearch(c.p)
	if err != nil {
		return err
	}
	sel := s.sel
	needBlob := key.needsBlob()
	ev := searchEnv{count: uint32(len(sel.msgs)), maxUID: sel.maxUID()}
	var b strings.Builder
	b.WriteString("* SEARCH")
	for i, m := range sel.msgs {
		if sel.pendingExpunge[m.UID] {
			continue
		}
		ev.seq, ev.m, ev.parsed = uint32(i+1), m, nil
		if needBlob {
			raw, err := s.readBlob(m)
			if err != nil {
				return err
			}
			ev.raw = raw
		}
		if !ev.match(key) {
			continue
		}
		b.WriteByte(' ')
		if c.uid {
			b.WriteString(strconv.FormatUint(uint64(m.UID), 10))
		} else {
			b.WriteString(strconv.Itoa(i + 1))
		}
	}
	b.WriteString("\r\n")
	return s.write([]byte(b.String()))
}

// searchEnv is the message a search program is evaluated against.
type searchEnv struct {
	count, maxUID uint32
	seq           uint32
	m             mailstore.Message
	raw           []byte
	parsed        *imapmsg.Message
}

func (ev *searchEnv) msg() *imapmsg.Message {
	if ev.parsed == nil {
		ev.parsed = imapmsg.Parse(ev.raw)
	}
	return ev.parsed
}

// day truncates t to its calendar date in its own zone, as UTC midnight:
// RFC 3501 dates disregard time and timezone.
func day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (ev *searchEnv) sentDate() (time.Time, bool) {
	vals := ev.msg().HeaderValues("Date")
	if len(vals) == 0 {
		return time.Time{}, false
	}
	t, err := mail.ParseDate(vals[0])
	if err != nil {
		return time.Time{}, false
	}
	return day(t), true
}

func (ev *searchEnv) match(k *searchKey) bool {
	switch k.op {
	case opAll:
		return true
	case opNone:
		return false
	case opAnd:
		for _, kid := range k.kids {
			if !ev.match(kid) {
				return false
			}
		}
		return true
	case opOr:
		return ev.match(k.kids[0]) || ev.match(k.kids[1])
	case opNot:
		return !ev.match(k.kids[0])
	case opSeq:
		// Numbers beyond the mailbox simply match nothing.
		return k.set.containsUID(ev.seq, ev.count)
	case opUID:
		return k.set.containsUID(ev.m.UID, ev.maxUID)
	case opFlag:
		return slices.ContainsFunc(ev.m.Flags, func(f string) bool { return strings.EqualFold(f, k.flag) })
	case opNotFlag:
		return !slices.ContainsFunc(ev.m.Flags, func(f string) bool { return strings.EqualFold(f, k.flag) })
	case opLarger:
		return ev.m.Size > k.n
	case opSmaller:
		return ev.m.Size < k.n
	case opBefore:
		return day(ev.m.InternalDate).Before(k.date)
	case opOn:
		return day(ev.m.InternalDate).Equal(k.date)
	case opSince:
		return !day(ev.m.InternalDate).Before(k.date)
	case opSentBefore, opSentOn, opSentSince:
		d, ok := ev.sentDate()
		if !ok {
			return false
		}
		switch k.op {
		case opSentBefore:
			return d.Before(k.date)
		case opSentOn:
			return d.Equal(k.date)
		default:
			return !d.Before(k.date)
		}
	case opHeader:
		return ev.msg().HasHeader(k.field, k.value)
	case opBody:
		return ev.msg().BodyContains(k.value, false)
	case opText:
		return ev.msg().BodyContains(k.value, true)
	}
	return false
}
