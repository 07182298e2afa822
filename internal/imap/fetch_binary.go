package imap

import (
	"bytes"
	"errors"
	"strconv"

	"github.com/rookery-mail/rookery/internal/imap/imapmsg"
)

// binarySection returns a section with its Content-Transfer-Encoding
// undone (RFC 3516 §4.2). An encoding we cannot undo is NO [UNKNOWN-CTE].
func binarySection(sec imapmsg.Section, msg *imapmsg.Message) ([]byte, error) {
	data, err := msg.Binary(sec)
	switch {
	case errors.Is(err, imapmsg.ErrUnknownCTE):
		return nil, errNo("UNKNOWN-CTE", "Unknown Content-Transfer-Encoding")
	case errors.Is(err, imapmsg.ErrBadEncoding):
		return nil, errNo("PARSE", "Content does not match its Content-Transfer-Encoding")
	}
	return data, err
}

// writeLiteral writes data as a literal. With binary set, content holding
// NUL goes in a literal8 ~{n} (RFC 3516 §4.3); anything else, 8-bit
// included, in a plain {n}, which the RFC prefers so that a client can
// tell NUL-free data without scanning it. A plain literal cannot carry
// NUL (RFC 9051 §4.3, CHAR8 is %x01-ff), so in BODY[] a NUL is sent as
// 0x80, as Dovecot does; the size stays that of the stored message.
func writeLiteral(b *bytes.Buffer, data []byte, binary bool) {
	hasNUL := bytes.IndexByte(data, 0) >= 0
	if hasNUL && binary {
		b.WriteByte('~')
	}
	b.WriteByte('{')
	b.WriteString(strconv.Itoa(len(data)))
	b.WriteString("}\r\n")
	if !hasNUL || binary {
		b.Write(data)
		return
	}
	for _, c := range data {
		if c == 0 {
			c = 0x80
		}
		b.WriteByte(c)
	}
}
