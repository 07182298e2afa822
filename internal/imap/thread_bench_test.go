package imap

import (
	"fmt"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/imap/imapmsg"
)

// benchThreadMsgs builds n messages in threads of ten replies each, every
// reply referencing the whole chain above it.
func benchThreadMsgs(n int) []*sortMsg {
	msgs := make([]*sortMsg, n)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range msgs {
		root := i - i%10
		refs := ""
		for j := root; j < i; j++ {
			refs += fmt.Sprintf(" <m%d@x>", j)
		}
		subj := fmt.Sprintf("Topic %d", root)
		if i != root {
			subj = "Re: " + subj
		}
		hdr := fmt.Sprintf("Message-ID: <m%d@x>\r\nReferences:%s\r\nSubject: %s\r\nDate: %s\r\n\r\n",
			i, refs, subj, base.Add(time.Duration(i)*time.Minute).Format(time.RFC1123Z))
		msgs[i] = &sortMsg{seq: uint32(i + 1), hdr: imapmsg.Parse([]byte(hdr))}
		msgs[i].fillKeys()
	}
	return msgs
}

func BenchmarkThreadReferences(b *testing.B) {
	msgs := benchThreadMsgs(10000)
	for b.Loop() {
		threadReferences(msgs)
	}
}

func BenchmarkSortSubjectDate(b *testing.B) {
	msgs := benchThreadMsgs(10000)
	keys := []sortKey{{name: "SUBJECT"}, {name: "DATE", reverse: true}}
	for b.Loop() {
		sortMessages(append([]*sortMsg(nil), msgs...), keys)
	}
}
