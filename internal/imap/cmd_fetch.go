package imap

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/rookery-mail/rookery/internal/imap/imapmsg"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

// fetchFeature: FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8) with BINARY
// (RFC 3516; APPEND accepts literal8 in cmd_append.go).
var fetchFeature = feature{
	caps: func(s *session) []string { return []string{"BINARY"} },
	commands: map[string]commandSpec{
		"FETCH":     {states: stateSelected, handle: handleFetch, noExpunge: true},
		"UID FETCH": {states: stateSelected, handle: handleFetch},
	},
}

const internalDateLayout = "02-Jan-2006 15:04:05 -0700"

func handleFetch(s *session, c *command) error {
	if err := c.p.sp(); err != nil {
		return err
	}
	set, err := c.p.seqSet()
	if err != nil {
		return err
	}
	if err := c.p.sp(); err != nil {
		return err
	}
	items, err := parseFetchItems(c.p)
	if err != nil {
		return err
	}
	mods, err := parseFetchModifiers(c.p)
	if err != nil {
		return err
	}
	if err := c.p.end(); err != nil {
		return err
	}
	if mods.vanished && (!c.uid || !s.qresync) {
		return errBad("", "VANISHED needs UID FETCH and ENABLE QRESYNC") // RFC 7162 §3.2.6
	}
	idx, err := s.resolveSet(set, c.uid)
	if err != nil {
		return err
	}
	if mods.hasChanged || hasFetchItem(items, fetchModSeq) {
		if err := s.enableCondstore(); err != nil { // RFC 7162 §3.1
			return err
		}
	}
	if mods.hasChanged {
		idx = s.changedSince(idx, mods.changedSince)
	}
	if mods.partial != nil {
		if !c.uid {
			return errBad("", "PARTIAL needs UID FETCH") // RFC 9394 §3.3
		}
		from, to := mods.partial.window(len(idx))
		idx = idx[from:to]
	}
	if mods.vanished {
		if err := s.writeVanishedEarlier(set, mods.changedSince); err != nil {
			return err
		}
	}
	if c.uid && !hasFetchItem(items, fetchUID) {
		items = append([]fetchItem{{kind: fetchUID}}, items...) // RFC 3501 §6.4.8
	}
	items = s.condstoreFetchItems(items, mods.hasChanged)
	flagsChanged, err := s.markSeen(idx, items)
	if err != nil {
		return err
	}
	return s.writeFetch(idx, items, flagsChanged)
}

// writeFetch sends a FETCH response for each message s.sel.msgs[i] of idx;
// flagsChanged adds FLAGS for messages FETCH has just marked \Seen.
func (s *session) writeFetch(idx []int, items []fetchItem, flagsChanged map[uint32]bool) error {
	needBlob := slices.ContainsFunc(items, fetchItem.needsBlob)
	var headers map[uint32][]byte // the header cache, when the items need no more
	var err error
	if needBlob && !slices.ContainsFunc(items, func(it fetchItem) bool { return it.needsBlob() && !it.headerOnly() }) {
		if headers, err = s.cachedHeaders(idx); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	for n, i := range idx {
		if err := s.interrupted(n); err != nil {
			return err
		}
		m := s.sel.msgs[i]
		var raw []byte
		if h, ok := headers[m.UID]; ok {
			raw = h
		} else if needBlob {
			raw, err = s.readBlob(m)
			if err != nil {
				if s.sel.pendingExpunge[m.UID] {
					continue // expunged meanwhile (RFC 2180 §4.1.3)
				}
				return err
			}
		}
		buf.Reset()
		if err := writeFetchResponse(&buf, i+1, s.sel.withRecent(m), raw, items, flagsChanged[m.UID]); err != nil {
			return err
		}
		if err := s.write(buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) readBlob(m mailstore.Message) ([]byte, error) {
	rc, err := s.store.OpenBlob(s.ctx, m.BlobID)
	if err != nil {
		if errors.Is(err, mailstore.ErrBlobMissing) {
			return nil, errNo("UNAVAILABLE", "Message content not available")
		}
		return nil, err
	}
	defer rc.Close()
	var b bytes.Buffer
	if m.Size > 0 && m.Size < 1<<31 {
		b.Grow(int(m.Size))
	}
	_, err = b.ReadFrom(rc)
	return b.Bytes(), err
}

// markSeen sets \Seen on messages fetched with a non-PEEK body item
// (RFC 3501 §6.4.5) and returns which UIDs changed, whose FLAGS the
// response must then include.
func (s *session) markSeen(idx []int, items []fetchItem) (map[uint32]bool, error) {
	// RFC 4314 §4: FETCH sets \Seen only with the "s" right.
	if s.sel.readOnly || !s.sel.rights.has(rightSeen) || !slices.ContainsFunc(items, func(it fetchItem) bool { return (it.kind == fetchSection || it.kind == fetchBinary) && !it.peek }) {
		return nil, nil
	}
	var uids []uint32
	for _, i := range idx {
		if !slices.Contains(s.sel.msgs[i].Flags, `\Seen`) {
			uids = append(uids, s.sel.msgs[i].UID)
		}
	}
	if len(uids) == 0 {
		return nil, nil
	}
	changed, err := s.store.SetFlags(s.ctx, s.sel.owner, s.sel.info.ID, uids, mailstore.FlagsAdd, []string{`\Seen`})
	if err != nil {
		return nil, err
	}
	// The new flags carry another session's unreported keywords too.
	if err := s.announceKeywords(changed); err != nil {
		return nil, err
	}
	out := make(map[uint32]bool, len(changed))
	for _, m := range changed {
		if i := s.sel.index(m.UID); i >= 0 {
			s.sel.msgs[i] = m
			out[m.UID] = true
		}
	}
	return out, nil
}

// cachedHeaders reads the header cache for the messages at idx.
func (s *session) cachedHeaders(idx []int) (map[uint32][]byte, error) {
	uids := make([]uint32, len(idx))
	for n, i := range idx {
		uids[n] = s.sel.msgs[i].UID
	}
	return s.store.Headers(s.ctx, s.sel.owner, s.sel.info.ID, uids)
}

// writeFetchResponse renders "* seq FETCH (...)\r\n" for one message.
func writeFetchResponse(b *bytes.Buffer, seq int, m mailstore.Message, raw []byte, items []fetchItem, addFlags bool) error {
	b.WriteString("* ")
	b.WriteString(strconv.Itoa(seq))
	b.WriteString(" FETCH (")
	var parsed *imapmsg.Message
	msg := func() *imapmsg.Message {
		if parsed == nil {
			parsed = imapmsg.Parse(raw)
		}
		return parsed
	}
	first := true
	sep := func() {
		if !first {
			b.WriteByte(' ')
		}
		first = false
	}
	hasFlags := false
	for _, it := range items {
		sep()
		switch it.kind {
		case fetchFlags:
			hasFlags = true
			b.WriteString("FLAGS (")
			b.WriteString(strings.Join(m.Flags, " "))
			b.WriteByte(')')
		case fetchUID:
			b.WriteString("UID ")
			b.WriteString(strconv.FormatUint(uint64(m.UID), 10))
		case fetchModSeq:
			b.WriteString(modSeqItem(m.ModSeq))
		case fetchEmailID, fetchThreadID:
			writeObjectIDItem(b, it.kind, m)
		case fetchSaveDate:
			writeSaveDate(b, m)
		case fetchInternalDate:
			b.WriteString(`INTERNALDATE "`)
			b.WriteString(m.InternalDate.Format(internalDateLayout))
			b.WriteByte('"')
		case fetchSize:
			b.WriteString("RFC822.SIZE ")
			b.WriteString(strconv.FormatInt(m.Size, 10))
		case fetchEnvelope:
			b.WriteString("ENVELOPE ")
			b.WriteString(msg().Envelope())
		case fetchBodyStructure:
			b.WriteString("BODYSTRUCTURE ")
			b.WriteString(msg().BodyStructure(true))
		case fetchBody:
			b.WriteString("BODY ")
			b.WriteString(msg().BodyStructure(false))
		case fetchPreview:
			b.WriteString("PREVIEW ") // RFC 8970 §4
			b.WriteString(imapmsg.Quote(msg().Preview()))
		case fetchBinary, fetchBinarySize:
			data, err := binarySection(it.section, msg())
			if err != nil {
				return err
			}
			b.WriteString(it.respName)
			if it.kind == fetchBinarySize {
				b.WriteByte(' ')
				b.WriteString(strconv.Itoa(len(data)))
				break
			}
			if it.hasPartial {
				data = imapmsg.Partial(data, it.offset, it.length)
				b.WriteByte('<')
				b.WriteString(strconv.FormatUint(uint64(it.offset), 10))
				b.WriteByte('>')
			}
			b.WriteByte(' ')
			writeLiteral(b, data, true)
		case fetchSection:
			data := msg().Section(it.section)
			b.WriteString(it.respName)
			if it.hasPartial {
				data = imapmsg.Partial(data, it.offset, it.length)
				b.WriteByte('<')
				b.WriteString(strconv.FormatUint(uint64(it.offset), 10))
				b.WriteByte('>')
			}
			b.WriteByte(' ')
			writeLiteral(b, data, false)
		}
	}
	if addFlags && !hasFlags {
		sep()
		b.WriteString("FLAGS (")
		b.WriteString(strings.Join(m.Flags, " "))
		b.WriteByte(')')
	}
	b.WriteString(")\r\n")
	return nil
}
