package accept

import (
	"bytes"

	"github.com/emersion/go-smtp"
)

// MaxHops bounds the Received header fields of a message: more mean a
// loop, e.g. two systems whose aliases forward to each other. RFC 5321 §6.3
// says such a limit should be large; Postfix's hopcount_limit is 50.
const MaxHops = 50

var errTooManyHops = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 4, 6}, Message: "Too many hops: mail loop detected"}

// tooManyHops reports whether msg's header holds more than MaxHops
// Received fields (counted at line starts, case-insensitively).
func tooManyHops(msg []byte) bool {
	n := 0
	for len(msg) > 0 {
		line := msg
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line, msg = msg[:i+1], msg[i+1:]
		} else {
			msg = nil
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			break // end of the header
		}
		if len(line) >= 9 && bytes.EqualFold(line[:9], []byte("received:")) {
			if n++; n > MaxHops {
				return true
			}
		}
	}
	return false
}
