package submission

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// headerBlock returns the header section of msg, without the blank line.
func headerBlock(msg []byte) []byte {
	if bytes.HasPrefix(msg, []byte("\r\n")) {
		return nil
	}
	if i := bytes.Index(msg, []byte("\r\n\r\n")); i >= 0 {
		return msg[:i+2]
	}
	return msg
}

// hasField reports whether the header block has a field named name.
func hasField(hdr []byte, name string) bool {
	for _, line := range bytes.Split(hdr, []byte("\r\n")) {
		if i := bytes.IndexByte(line, ':'); i > 0 && strings.EqualFold(strings.TrimSpace(string(line[:i])), name) {
			return true
		}
	}
	return false
}

// headerFrom returns the single address of the From header.
func headerFrom(msg []byte) (string, error) {
	m, err := mail.ReadMessage(bytes.NewReader(append(headerBlock(msg), "\r\n"...)))
	if err != nil {
		return "", err
	}
	froms := m.Header["From"]
	if len(froms) != 1 {
		return "", errors.New("want exactly one From header")
	}
	list, err := mail.ParseAddressList(froms[0])
	if err != nil || len(list) != 1 {
		return "", fmt.Errorf("From header %q: want one address", froms[0])
	}
	return strings.ToLower(list[0].Address), nil
}

// addMissingHeaders prepends Date and Message-ID when the client left them
// out, as RFC 6409 §8.1-8.3 allows a submission server to.
func addMissingHeaders(msg []byte, hostname string) []byte {
	hdr := headerBlock(msg)
	var add bytes.Buffer
	if !hasField(hdr, "Date") {
		fmt.Fprintf(&add, "Date: %s\r\n", time.Now().Format(time.RFC1123Z))
	}
	if !hasField(hdr, "Message-ID") {
		var b [12]byte
		rand.Read(b[:])
		fmt.Fprintf(&add, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(b[:]), hostname)
	}
	if add.Len() == 0 {
		return msg
	}
	return append(add.Bytes(), msg...)
}
