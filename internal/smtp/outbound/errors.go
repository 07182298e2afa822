package outbound

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-smtp"
	"github.com/rookery-mail/rookery/internal/queue"
)

// deliveryError is the outcome of a failed attempt in the words the queue
// and the DSN need: a status and a text that starts with the host (for
// remote replies) and the SMTP code.
type deliveryError struct {
	status queue.Status // queue.Failed or queue.Pending
	text   string
	// broken is set when the connection can no longer be used.
	broken bool
}

func (e *deliveryError) Error() string { return e.text }

// permErr is a locally decided permanent failure, e.g. a domain that does
// not exist. The text carries a reply code like a remote one, for the DSN.
func permErr(code int, enh, format string, args ...any) *deliveryError {
	return &deliveryError{status: queue.Failed, text: fmt.Sprintf("%d %s %s", code, enh, fmt.Sprintf(format, args...))}
}

// tempErr is a locally decided temporary failure; the runner retries.
func tempErr(enh, format string, args ...any) *deliveryError {
	return &deliveryError{status: queue.Pending, text: fmt.Sprintf("451 %s %s", enh, fmt.Sprintf(format, args...))}
}

// classify maps an error from the SMTP client into a deliveryError: 5xx is
// permanent, 4xx temporary, anything else (network, timeout, protocol) is
// temporary and breaks the connection. This is the one place reply codes
// become queue statuses.
func classify(host, ip string, err error) *deliveryError {
	var de *deliveryError
	if errors.As(err, &de) {
		return de
	}
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		return &deliveryError{status: queue.Pending, broken: true, text: fmt.Sprintf("%s[%s]: %v", host, ip, err)}
	}
	text := fmt.Sprintf("%s[%s]: %d", host, ip, se.Code)
	if se.EnhancedCode != (smtp.EnhancedCode{}) && se.EnhancedCode != smtp.NoEnhancedCode {
		text += fmt.Sprintf(" %d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
	}
	text += " " + strings.ReplaceAll(se.Message, "\n", " ")
	de = &deliveryError{status: queue.Pending, text: text}
	switch {
	case se.Code >= 500 && se.Code < 600:
		de.status = queue.Failed
	case se.Code == 421:
		// RFC 5321 §3.8: 421 means the server is closing the channel.
		de.broken = true
	case se.Code < 400 || se.Code >= 600:
		// A reply out of sequence: treat as a protocol error.
		de.broken = true
	}
	return de
}
