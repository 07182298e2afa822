package imap

import (
	"context"
	"errors"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// imapError is a NO or BAD reply with an optional response code (RFC 5530).
type imapError struct {
	kind string // "NO" or "BAD"
	code string // without brackets, e.g. "TRYCREATE"
	text string
}

func (e *imapError) Error() string { return e.kind + " " + e.text }

func errNo(code, text string) error  { return &imapError{kind: "NO", code: code, text: text} }
func errBad(code, text string) error { return &imapError{kind: "BAD", code: code, text: text} }

// respError maps any error a handler returns to the reply the client sees;
// this is the one place store errors become IMAP response codes. Internal
// details are logged, never sent.
func (s *session) respError(err error) *imapError {
	var ie *imapError
	if errors.As(err, &ie) {
		return ie
	}
	if isSyntaxError(err) {
		return &imapError{kind: "BAD", text: "Syntax error: " + err.Error()}
	}
	var le *mailstore.LimitError
	if errors.As(err, &le) {
		return &imapError{kind: "NO", code: "LIMIT", text: le.Text} // RFC 5530 §3
	}
	switch {
	case errors.Is(err, mailstore.ErrNoMailbox):
		return &imapError{kind: "NO", code: "NONEXISTENT", text: "No such mailbox"}
	case errors.Is(err, mailstore.ErrMailboxExists):
		return &imapError{kind: "NO", code: "ALREADYEXISTS", text: "Mailbox already exists"}
	case errors.Is(err, mailstore.ErrInvalidName):
		return &imapError{kind: "NO", code: "CANNOT", text: "Invalid mailbox name"}
	case errors.Is(err, mailstore.ErrNoMessage):
		return &imapError{kind: "NO", code: "NONEXISTENT", text: "No such message"}
	case errors.Is(err, mailstore.ErrOverQuota):
		return &imapError{kind: "NO", code: "OVERQUOTA", text: "Quota exceeded"} // RFC 9208 §4.3.1
	case errors.Is(err, mailstore.ErrNoSpace):
		// RFC 5530 has no code for a full disk; OVERQUOTA is what Dovecot
		// answers (MAIL_ERROR_NOQUOTA) and clients show as "no room".
		s.log.Warn("imap write failed: disk full", "user", s.user, "err", err)
		return &imapError{kind: "NO", code: "OVERQUOTA", text: "Not enough disk space"}
	case errors.Is(err, mailstore.ErrNotServed):
		// This node lost the store's lease (cluster): nothing was
		// written; the session is ended soon and the client reconnects
		// to the node that serves it now.
		return &imapError{kind: "NO", code: "UNAVAILABLE", text: "Mailbox not served here any more, reconnect"}
	case errors.Is(err, mailstore.ErrNoAccount):
		return &imapError{kind: "NO", code: "UNAVAILABLE", text: "Account not available"}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &imapError{kind: "NO", code: "UNAVAILABLE", text: "Operation interrupted"}
	}
	s.log.Error("imap command failed", "user", s.user, "err", err)
	return &imapError{kind: "NO", code: "SERVERBUG", text: "Internal error, try again later"}
}

// withTryCreate turns "no such mailbox" into [TRYCREATE] (RFC 3501 §6.3.11, §6.4.7).
func withTryCreate(err error) error {
	if errors.Is(err, mailstore.ErrNoMailbox) {
		return errNo("TRYCREATE", "No such mailbox")
	}
	return err
}
