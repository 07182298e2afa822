package mx

import (
	"context"

	"github.com/emersion/go-smtp"

	"github.com/rookery-mail/rookery/internal/directory"
)

// Quota tells how much more mail an account can take (the router
// implements it); a negative value means no limit.
type Quota interface {
	Room(ctx context.Context, acct directory.Account) (bytes, messages int64, err error)
}

// minMessage is less than any stored copy takes: delivery prepends
// Return-Path, Delivered-To and Received (about 250 octets) to every
// message, so a mailbox with less room than this is full.
const minMessage = 256

var (
	// RFC 3463 X.2.2 mailbox full: temporary, the owner may make room.
	errMailboxFull = &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "Mailbox full, try again later"}
	// The declared SIZE exceeds what the mailbox can still take.
	errTooBigForMailbox = &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 2, 2}, Message: "Message larger than the space left in the mailbox"}
)

// checkRoom refuses a recipient at RCPT when nothing it reaches can take
// the message, so that a full mailbox does not turn into a bounce to a
// sender address that may be forged (backscatter). size is MAIL FROM's
// SIZE (0 when not declared). An address that reaches some account with
// room, or forwards, is accepted; a full account among them gets a DSN
// later, as does a mailbox that fills between RCPT and delivery. A quota
// that cannot be read does not refuse anything: delivery checks again.
func (se *session) checkRoom(ctx context.Context, to string, res directory.Resolution, size int64) *smtp.SMTPError {
	if se.s.opts.Quota == nil || len(res.Forward) > 0 || len(res.Accounts) == 0 {
		return nil
	}
	tooBig := false
	for _, a := range res.Accounts {
		bytes, messages, err := se.s.opts.Quota.Room(ctx, a)
		if err != nil {
			se.log.Warn("quota lookup failed", "rcpt", to, "account", a.Address, "err", err)
			return nil
		}
		switch {
		case messages == 0 || bytes >= 0 && bytes < minMessage:
		case bytes > 0 && size > bytes:
			tooBig = true
		default:
			return nil // this account can take it
		}
	}
	if tooBig {
		return errTooBigForMailbox
	}
	return errMailboxFull
}
