package queue

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"regexp"
	"strings"
	"time"
)

// Action is a DSN's per-recipient action field (RFC 3464 §2.3.3).
type Action string

const (
	ActionFailed  Action = "failed"
	ActionDelayed Action = "delayed"
)

// DSN is a delivery status notification for one message (RFC 3464): a
// bounce (ActionFailed) or a delay warning (ActionDelayed).
type DSN struct {
	Hostname string   // Reporting-MTA and the MAILER-DAEMON address
	Action   Action   // the same for every recipient of one notice
	Original *Message // the envelope being reported on; Body may be nil
	// Headers is the original header section, returned as
	// text/rfc822-headers (RFC 6522 §4); nil omits the part.
	Headers    []byte
	Recipients []DSNRecipient
	Date       time.Time
	// RetryUntil, for a delay warning, is when the queue gives up
	// (Will-Retry-Until, RFC 3464 §2.3.7).
	RetryUntil time.Time
}

// DSNRecipient is the per-recipient part of a DSN.
type DSNRecipient struct {
	Address     string // Final-Recipient
	Orig        string // Original-Recipient when known
	Status      string // enhanced status code, e.g. 5.1.1 (RFC 3463)
	Diagnostic  string // the remote's reply or the local reason
	RemoteMTA   string // the host that gave the reply, when remote
	LastAttempt time.Time
}

// enhancedCode finds an RFC 3463 code at the start of a reply text, after
// an optional SMTP reply code: "550 5.1.1 no such user", "5.1.1 gone".
var enhancedCode = regexp.MustCompile(`^(?:[245]\d\d[ -])?([245]\.\d{1,3}\.\d{1,3})\b`)

// smtpReply matches text that is an SMTP server reply (RFC 5321 §4.2),
// which Diagnostic-Code labels "smtp".
var smtpReply = regexp.MustCompile(`^[245]\d\d(?:[ -]|$)`)

// StatusCode returns the enhanced status code in reply, or def when it has
// none or one of the wrong class (a 4.x.x reply to a failed recipient
// after expiry keeps its code only when def is also transient).
// remoteReply matches the outbound role's error text "host[ip]: reply".
var remoteReply = regexp.MustCompile(`^([A-Za-z0-9.-]+)\[[^\]]*\]: (.*)$`)

// SplitRemote separates the remote host from its reply in a delivery
// error, so the DSN can report the host as Remote-MTA and the reply as an
// smtp Diagnostic-Code (RFC 3464 §2.3.5, §2.3.6). Other text is returned
// unchanged with an empty host.
func SplitRemote(text string) (host, reply string) {
	if m := remoteReply.FindStringSubmatch(strings.TrimSpace(text)); m != nil {
		return m[1], m[2]
	}
	return "", text
}

func StatusCode(reply, def string) string {
	m := enhancedCode.FindStringSubmatch(strings.TrimSpace(reply))
	if m == nil || m[1][0] != def[0] {
		return def
	}
	return m[1]
}

// Compose renders the DSN as a message: multipart/report with a
// human-readable part, message/delivery-status and the original headers
// (RFC 6522, RFC 3464). It is addressed to the original envelope sender.
func (d *DSN) Compose() ([]byte, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	// "=_" cannot occur in quoted-printable text, the random part in anything.
	if err := mw.SetBoundary("=_" + randomToken() + randomToken()); err != nil {
		return nil, err
	}
	subject := "Undelivered Mail Returned to Sender"
	if d.Action == ActionDelayed {
		subject = "Delayed Mail (still being retried)"
	}
	var h bytes.Buffer
	fmt.Fprintf(&h, "From: \"Mail Delivery System\" <MAILER-DAEMON@%s>\r\n", d.Hostname)
	fmt.Fprintf(&h, "To: <%s>\r\n", d.Original.From)
	fmt.Fprintf(&h, "Subject: %s\r\n", subject)
	fmt.Fprintf(&h, "Date: %s\r\n", d.Date.Format(time.RFC1123Z))
	fmt.Fprintf(&h, "Message-ID: <%s.%s@%s>\r\n", d.Original.ID, randomToken(), d.Hostname)
	h.WriteString("Auto-Submitted: auto-replied\r\n") // RFC 3834 §5: no auto-replies to this
	h.WriteString("MIME-Version: 1.0\r\n")
	fmt.Fprintf(&h, "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"%s\"\r\n\r\n", mw.Boundary())
	h.WriteString("This is a MIME-encapsulated message.\r\n\r\n")

	if err := d.part(mw, "text/plain; charset=utf-8", "Notification", d.humanText()); err != nil {
		return nil, err
	}
	if err := d.part(mw, "message/delivery-status", "Delivery report", d.statusFields()); err != nil {
		return nil, err
	}
	if d.Headers != nil {
		hdr := bytes.TrimRight(d.Headers, "\r\n")
		if err := d.part(mw, "text/rfc822-headers", "Undelivered Message Headers", string(hdr)+"\r\n"); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return append(h.Bytes(), buf.Bytes()...), nil
}

func (d *DSN) part(mw *multipart.Writer, ctype, desc, body string) error {
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Type", ctype)
	hdr.Set("Content-Description", desc)
	w, err := mw.CreatePart(hdr)
	if err != nil {
		return err
	}
	_, err = w.Write([]byte(crlf(body)))
	return err
}

// humanText is the first part, worded after Postfix's bounce templates.
func (d *DSN) humanText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "This is the mail system at host %s.\n\n", d.Hostname)
	if d.Action == ActionDelayed {
		b.WriteString("####################################################################\n")
		b.WriteString("# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n")
		b.WriteString("####################################################################\n\n")
		fmt.Fprintf(&b, "Your message could not be delivered for %s. It will be retried until %s.\n\n",
			d.Date.Sub(d.Original.Received).Round(time.Minute), d.RetryUntil.Format(time.RFC1123Z))
	} else {
		b.WriteString("I'm sorry to have to inform you that your message could not\n")
		b.WriteString("be delivered to one or more recipients. It's attached below.\n\n")
		b.WriteString("For further assistance, please send mail to postmaster.\n\n")
	}
	for _, r := range d.Recipients {
		fmt.Fprintf(&b, "<%s>: %s\n", r.Address, oneLine(r.Diagnostic))
	}
	return b.String()
}

// statusFields is the message/delivery-status body: per-message fields,
// then one block per recipient (RFC 3464 §2.2, §2.3).
func (d *DSN) statusFields() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Reporting-MTA: dns; %s\n", d.Hostname)
	fmt.Fprintf(&b, "X-Rookery-Queue-ID: %s\n", d.Original.ID)
	fmt.Fprintf(&b, "Arrival-Date: %s\n", d.Original.Received.Format(time.RFC1123Z))
	for _, r := range d.Recipients {
		b.WriteString("\n")
		fmt.Fprintf(&b, "Final-Recipient: rfc822; %s\n", r.Address)
		if r.Orig != "" {
			fmt.Fprintf(&b, "Original-Recipient: rfc822; %s\n", r.Orig)
		}
		fmt.Fprintf(&b, "Action: %s\n", d.Action)
		fmt.Fprintf(&b, "Status: %s\n", r.Status)
		if r.RemoteMTA != "" {
			fmt.Fprintf(&b, "Remote-MTA: dns; %s\n", r.RemoteMTA)
		}
		if diag := oneLine(r.Diagnostic); diag != "" {
			// RFC 3464 §2.3.6: "smtp" only for an SMTP reply; our own
			// reasons use an X- type, as Postfix's "X-Postfix".
			kind := "X-Rookery"
			if smtpReply.MatchString(diag) {
				kind = "smtp"
			}
			fmt.Fprintf(&b, "Diagnostic-Code: %s; %s\n", kind, diag)
		}
		if !r.LastAttempt.IsZero() {
			fmt.Fprintf(&b, "Last-Attempt-Date: %s\n", r.LastAttempt.Format(time.RFC1123Z))
		}
		if d.Action == ActionDelayed && !d.RetryUntil.IsZero() {
			fmt.Fprintf(&b, "Will-Retry-Until: %s\n", d.RetryUntil.Format(time.RFC1123Z))
		}
	}
	return b.String()
}

// oneLine makes a reply text safe as a header field value: no line breaks
// (a multi-line reply is joined), at most 900 bytes (RFC 5322 §2.1.1).
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 900 {
		s = s[:900]
	}
	return s
}

// crlf converts bare LF line ends to CRLF (RFC 5322 §2.1).
func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// HeaderSection returns the header section of a message: everything up to
// the first empty line, or all of it when there is none.
func HeaderSection(body []byte) []byte {
	if i := bytes.Index(body, []byte("\r\n\r\n")); i >= 0 {
		return body[:i+2]
	}
	if i := bytes.Index(body, []byte("\n\n")); i >= 0 {
		return body[:i+1]
	}
	return body
}

func randomToken() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
