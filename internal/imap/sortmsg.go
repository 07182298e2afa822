package imap

import (
	"bytes"
	"time"

	"github.com/rookery-mail/rookery/internal/imap/imapmsg"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

// sortMsg is a message that matched the search criteria of SORT or
// THREAD, with the keys both need computed once.
type sortMsg struct {
	seq uint32
	m   mailstore.Message
	hdr *imapmsg.Message // top-level header; nil unless needHeader was set

	sent    time.Time // Date header, else the internal date (RFC 5256 §2.2)
	subject string    // base subject (RFC 5256 §2.1), "" without hdr
	subjKey string    // subject as compared: i;ascii-casemap (RFC 5256 §3)
	isReply bool      // the subject marked a reply or forward
}

// num is the number SORT and THREAD report: the UID for the UID forms.
func (sm *sortMsg) num(uid bool) uint32 {
	if uid {
		return sm.m.UID
	}
	return sm.seq
}

// matchForSort evaluates prog over the selected mailbox as SEARCH does
// (RFC 5256 §3: the criteria are SEARCH's) and returns the matches in
// sequence order. With needHeader it loads each match's top-level header,
// from the store's header cache when it has it, else from the blob,
// keeping only the header bytes so a large mailbox is not held in memory.
// With only needSent it takes the sent date the store keeps
// (mailstore.Message.Sent) and reads the header of the others.
func (s *session) matchForSort(prog *searchProgram, needHeader, needSent bool) ([]*sortMsg, error) {
	sel := s.sel
	if err := s.useTextIndex(prog.key); err != nil {
		return nil, err
	}
	needBlob := prog.key.needsBlob()
	ev := s.newSearchEnv()
	var out []*sortMsg
	for i, m := range sel.msgs {
		if err := s.interrupted(i); err != nil {
			return nil, err
		}
		if sel.pendingExpunge[m.UID] {
			continue
		}
		ev.seq, ev.m, ev.parsed, ev.raw = uint32(i+1), m, nil, nil
		if needBlob {
			raw, err := s.readBlob(m)
			if err != nil {
				return nil, err
			}
			ev.raw = raw
		}
		if !ev.match(prog.key) {
			continue
		}
		sm := &sortMsg{seq: uint32(i + 1), m: m, sent: m.InternalDate}
		if (needHeader || needSent) && ev.raw != nil {
			sm.setHeader(headerBytes(ev.raw))
		}
		out = append(out, sm)
	}
	if needHeader {
		return out, s.loadSortHeaders(out)
	}
	if needSent {
		var unknown []*sortMsg
		for _, sm := range out {
			switch {
			case sm.hdr != nil:
			case !sm.m.Sent.IsZero():
				sm.sent = sm.m.Sent
			default:
				unknown = append(unknown, sm)
			}
		}
		return out, s.loadSortHeaders(unknown)
	}
	return out, nil
}

// loadSortHeaders gives every message without a header its header: one
// store call for the cached ones, a blob read for the rest.
func (s *session) loadSortHeaders(msgs []*sortMsg) error {
	var uids []uint32
	for _, sm := range msgs {
		if sm.hdr == nil {
			uids = append(uids, sm.m.UID)
		}
	}
	cached, err := s.store.Headers(s.ctx, s.sel.owner, s.sel.info.ID, uids)
	if err != nil {
		return err
	}
	for _, sm := range msgs {
		if sm.hdr != nil {
			continue
		}
		h, ok := cached[sm.m.UID]
		if !ok {
			raw, err := s.readBlob(sm.m)
			if err != nil {
				return err
			}
			h = headerBytes(raw)
		}
		sm.setHeader(h)
	}
	return nil
}

// setHeader parses the header section and computes the sort keys.
func (sm *sortMsg) setHeader(h []byte) {
	sm.hdr = imapmsg.Parse(h)
	sm.fillKeys()
}

// fillKeys computes the sent date and base subject from the header.
func (sm *sortMsg) fillKeys() {
	if t, ok := sm.hdr.SentDate(); ok {
		sm.sent = t
	}
	if v := sm.hdr.HeaderValues("Subject"); len(v) > 0 {
		sm.subject, sm.isReply = baseSubject(v[0])
		sm.subjKey = upperASCII(sm.subject)
	}
}

// headerBytes returns a copy of the header of raw, blank line included,
// so that the body's memory can be released.
func headerBytes(raw []byte) []byte {
	end := len(raw)
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		end = i + 4
	}
	if i := bytes.Index(raw[:end], []byte("\n\n")); i >= 0 {
		end = i + 2
	}
	return bytes.Clone(raw[:end])
}

// parseSortCharset reads "SP charset" for SORT and THREAD, which take a
// mandatory charset before the search keys (RFC 5256 §5).
func parseSortCharset(p *parser) error {
	if err := p.sp(); err != nil {
		return err
	}
	cs, err := p.astring()
	if err != nil {
		return err
	}
	switch upperASCII(cs) {
	case "UTF-8", "US-ASCII":
		return nil
	}
	return errNo("BADCHARSET (UTF-8 US-ASCII)", "Unsupported charset")
}

// parseSortSearch reads the search keys that end SORT and THREAD with the
// SEARCH parser; RETURN options belong to SEARCH and ESORT only.
func parseSortSearch(p *parser) (*searchProgram, error) {
	prog, err := parseSearch(p)
	if err != nil {
		return nil, err
	}
	if prog.hasReturn {
		return nil, errSyntax("RETURN is not allowed here")
	}
	return prog, nil
}

// upperASCII upper-cases ASCII letters only: the i;ascii-casemap
// collation SORT uses by default (RFC 5256 §3, RFC 4790 §9.2).
func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
