package imap

import (
	"bytes"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// saveDateFeature: SAVEDATE (RFC 8514). The store records when each
// message was added to its mailbox (APPEND, delivery, COPY, MOVE), so
// every mailbox supports save dates and SAVEDATESUPPORTED matches all
// messages. Hooks: fetch_parse.go/cmd_fetch.go and search_parse.go/cmd_search.go.
var saveDateFeature = feature{
	caps: func(s *session) []string { return []string{"SAVEDATE"} },
}

// writeSaveDate renders FETCH SAVEDATE (RFC 8514); NIL stands for a
// message without a recorded save date.
func writeSaveDate(b *bytes.Buffer, m mailstore.Message) {
	if m.SaveDate.IsZero() {
		b.WriteString("SAVEDATE NIL")
		return
	}
	b.WriteString(`SAVEDATE "`)
	b.WriteString(m.SaveDate.Format(internalDateLayout))
	b.WriteByte('"')
}

// matchSaveDate evaluates SAVEDBEFORE, SAVEDON and SAVEDSINCE (RFC 8514),
// which compare calendar days like BEFORE, ON and SINCE.
func matchSaveDate(k *searchKey, m mailstore.Message) bool {
	if m.SaveDate.IsZero() {
		return false
	}
	d := day(m.SaveDate)
	switch k.op {
	case opSavedBefore:
		return d.Before(k.date)
	case opSavedOn:
		return d.Equal(k.date)
	default:
		return !d.Before(k.date)
	}
}
