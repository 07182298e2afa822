package imap

import (
	"strconv"
	"strings"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// storeFeature: STORE and UID STORE (RFC 3501 §6.4.6).
var storeFeature = feature{
	commands: map[string]commandSpec{
		"STORE":     {states: stateSelected, handle: handleStore, noExpunge: true},
		"UID STORE": {states: stateSelected, handle: handleStore},
	},
}

func handleStore(s *session, c *command) error {
	p := c.p
	if err := p.sp(); err != nil {
		return err
	}
	set, err := p.seqSet()
	if err != nil {
		return err
	}
	if err := p.sp(); err != nil {
		return err
	}
	op := mailstore.FlagsReplace
	if p.consume('+') {
		op = mailstore.FlagsAdd
	} else if p.consume('-') {
		op = mailstore.FlagsRemove
	}
	item, err := p.word(isFetchNameChar, "FLAGS")
	if err != nil {
		return err
	}
	silent := false
	switch strings.ToUpper(item) {
	case "FLAGS":
	case "FLAGS.SILENT":
		silent = true
	default:
		return errSyntax("unknown store item %q", item)
	}
	if err := p.sp(); err != nil {
		return err
	}
	var flags []string
	if p.peek() == '(' {
		if flags, err = p.flagList(); err != nil {
			return err
		}
	} else {
		for {
			f, err := p.flag()
			if err != nil {
				return err
			}
			flags = append(flags, f)
			if !p.consume(' ') {
				break
			}
		}
	}
	if err := p.end(); err != nil {
		return err
	}
	idx, err := s.resolveSet(set, c.uid)
	if err != nil {
		return err
	}
	if s.sel.readOnly {
		return errNo("READ-ONLY", "Mailbox is read-only")
	}
	if len(idx) == 0 {
		return nil
	}
	uids := make([]uint32, len(idx))
	for i, j := range idx {
		uids[i] = s.sel.msgs[j].UID
	}
	changed, err := s.store.SetFlags(s.ctx, s.user, s.sel.info.ID, uids, op, flags)
	if err != nil {
		return err
	}
	for _, m := range changed {
		if i := s.sel.index(m.UID); i >= 0 {
			s.sel.msgs[i] = m
		}
	}
	if silent {
		return nil
	}
	// Report the current flags of every message in the set (RFC 3501 §6.4.6).
	var b strings.Builder
	for _, i := range idx {
		m := s.sel.msgs[i]
		b.Reset()
		b.WriteString("* ")
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString(" FETCH (")
		if c.uid {
			b.WriteString("UID ")
			b.WriteString(strconv.FormatUint(uint64(m.UID), 10))
			b.WriteByte(' ')
		}
		b.WriteString("FLAGS (")
		b.WriteString(strings.Join(m.Flags, " "))
		b.WriteString("))\r\n")
		if err := s.write([]byte(b.String())); err != nil {
			return err
		}
	}
	return nil
}
