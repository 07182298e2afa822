package imap

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"net/textproto"
	"strings"

	"github.com/rookery-mail/rookery/internal/imap/imapmsg"
)

// binarySection returns a part's content with its Content-Transfer-Encoding
// undone (RFC 3516 §4.2). An encoding we cannot undo is NO [UNKNOWN-CTE].
func binarySection(part []int, msg func() *imapmsg.Message) ([]byte, error) {
	hdrSpec, bodySpec := imapmsg.SpecMIME, imapmsg.SpecAll
	if len(part) == 0 {
		hdrSpec, bodySpec = imapmsg.SpecHeader, imapmsg.SpecText
	}
	header := msg().Section(imapmsg.Section{Part: part, Spec: hdrSpec})
	body := msg().Section(imapmsg.Section{Part: part, Spec: bodySpec})
	cte := strings.ToLower(strings.TrimSpace(headerField(header, "Content-Transfer-Encoding")))
	switch cte {
	case "", "7bit", "8bit", "binary":
		return body, nil
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, body)
		clean = bytes.TrimRight(clean, "=")
		out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
		n, err := base64.RawStdEncoding.Decode(out, clean)
		if err != nil {
			return nil, errNo("PARSE", "Invalid base64 content")
		}
		return out[:n], nil
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil {
			return nil, errNo("PARSE", "Invalid quoted-printable content")
		}
		return out, nil
	}
	return nil, errNo("UNKNOWN-CTE", "Unknown Content-Transfer-Encoding")
}

// headerField returns the first value of a field in a raw header block.
func headerField(header []byte, name string) string {
	r := textproto.NewReader(bufioReader(header))
	h, _ := r.ReadMIMEHeader() // a partial header is still useful
	return h.Get(name)
}

func bufioReader(b []byte) *bufio.Reader {
	if !bytes.HasSuffix(b, []byte("\r\n\r\n")) && !bytes.HasSuffix(b, []byte("\n\n")) {
		b = append(b[:len(b):len(b)], "\r\n\r\n"...)
	}
	return bufio.NewReader(bytes.NewReader(b))
}
