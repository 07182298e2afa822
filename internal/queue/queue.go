// Package queue is the durable mail queue: every message accepted by an SMTP
// role is committed here before the client gets 250, and runners deliver it
// from here. Store is the storage boundary (sqlitequeue embedded; pgqueue
// on PostgreSQL and an object store, shared by several nodes); Runner is
// the delivery loop.
package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// ErrNotFound is returned for an unknown message ID.
var ErrNotFound = errors.New("queue: message not found")

// ErrNoSpace: the disk under the queue is full; Enqueue may succeed once
// space is freed.
var ErrNoSpace = errors.New("queue: no space left on device")

// Message is a queued message: envelope, per-recipient state and body.
type Message struct {
	ID         string
	From       string // reverse path; "" is the null sender
	Recipients []Recipient
	Received   time.Time
	Size       int64
	SMTPUTF8   bool
	// RequireTLS is MAIL FROM's REQUIRETLS (RFC 8689): every hop must use
	// verified TLS, so outbound never relays the message in plaintext.
	RequireTLS bool
	// Held messages are never Due until released (rookery queue hold).
	Held bool
	// Warned records that the one "delayed" DSN for this message was sent.
	Warned bool
	// Body holds the message on Enqueue; Due leaves it nil (see Store.Body),
	// so listing the queue never loads bodies.
	Body []byte
}

// Recipient is one envelope recipient and its delivery state.
type Recipient struct {
	Address string // the final address to deliver to (after alias expansion)
	Orig    string // the address given in RCPT TO
	// Remote marks a recipient outside this system's domains, delivered by
	// the outbound role over SMTP; others go to a local mailstore.
	Remote      bool
	Status      Status
	Attempts    int
	NextAttempt time.Time
	LastError   string
	// LastAttempt is when the last attempt ended (zero before the first);
	// it is a DSN's Last-Attempt-Date and starts a failure's retention.
	LastAttempt time.Time
	// ClaimOwner and ClaimUntil name the runner that took the recipient
	// with Due and until when no other runner may take it; both are zero
	// when it is unclaimed (see ClaimRequest).
	ClaimOwner string
	ClaimUntil time.Time
}

// Status is a recipient's delivery state.
type Status string

const (
	Pending   Status = "pending"
	Delivered Status = "delivered"
	// Failed is a permanent failure (or expiry, see Policy.MaxAge). The
	// runner has bounced it; the row stays for the administrator until the
	// message is deleted or Policy.KeepFailed has passed.
	Failed Status = "failed"
)

// Result is the outcome of one delivery attempt for one recipient.
type Result struct {
	MessageID string
	Recipient string // Recipient.Address
	Status    Status // Delivered, Failed, or Pending to retry at NextAttempt
	Error     string
	// NextAttempt is when to retry a Pending result.
	NextAttempt time.Time
	// NoSpace marks a Pending result deferred because the mailstore's
	// disk is full: the runner retries it as soon as space returns
	// (Runner.SpaceReturned, or another local delivery succeeding), not
	// only at NextAttempt.
	NoSpace bool
	// Attempted is when the attempt ended; the runner sets it.
	Attempted time.Time
}

// Stats summarises the queue for monitoring and `rookery queue list`.
// Messages, Held, Recipients and Oldest count only undelivered work
// (messages with pending recipients); Failed counts messages kept only to
// show their failed recipients.
type Stats struct {
	Messages   int       // messages with pending recipients, held ones included
	Held       int       // of those, held
	Recipients int       // pending recipients
	Failed     int       // messages with no pending recipient left, kept for their failures
	Oldest     time.Time // arrival of the oldest unheld message with pending recipients; zero if none
}

// ClaimRequest asks Due for work. Several runners (nodes) may share one
// store: Due claims every recipient it returns for Owner until Now+TTL, and
// no other Due returns it before the claim ends, so nothing is delivered
// twice. Complete ends a claim; a claim never completed (a runner that
// died) lapses at its end and the recipient is due again. A recipient is
// claimable when its claim ended at or before Now, so a zero TTL claims
// nothing for longer than the call (a peek).
type ClaimRequest struct {
	Owner string // the claiming runner, shown by `rookery queue list`
	Now   time.Time
	TTL   time.Duration
	Limit int // the most messages returned
	// Local and Remote choose the recipients to claim: those delivered to
	// a mailstore, and those sent by outbound SMTP (only where the
	// outbound role runs). Neither set claims nothing.
	Local, Remote bool
}

// Store persists the queue.
type Store interface {
	// Enqueue assigns msg.ID and stores the message. It returns only after
	// the message is durable; concurrent calls share commits (group commit).
	Enqueue(ctx context.Context, msg *Message) error
	// Due claims the pending recipients due at req.Now (see ClaimRequest)
	// and returns up to req.Limit messages with only those recipients and
	// without bodies, oldest first. Held messages are never due.
	Due(ctx context.Context, req ClaimRequest) ([]*Message, error)
	// ReleaseClaims ends every claim held by owner and returns how many
	// it ended. A runner calls it when it starts: claims under its name
	// are left from an earlier life of the node (a crash) and nobody works
	// on them, so its mail need not wait for the claims to lapse.
	ReleaseClaims(ctx context.Context, owner string) (int, error)
	// Body returns a message's body.
	Body(ctx context.Context, id string) ([]byte, error)
	// Complete records attempt results and ends the claims on their
	// recipients; a message whose recipients are all delivered is removed.
	// Results for a message no longer queued (deleted meanwhile) are
	// ignored.
	Complete(ctx context.Context, results []Result) error
	// List returns every queued message (without bodies) for administration.
	List(ctx context.Context) ([]*Message, error)
	// Get returns one message with all its recipients, without body, or an
	// error wrapping ErrNotFound.
	Get(ctx context.Context, id string) (*Message, error)
	// Hold keeps a message from being Due until Release; its retry times
	// and age keep running, as with Postfix's hold queue. Claims already
	// taken stand: an attempt under way finishes and is completed.
	Hold(ctx context.Context, id string) error
	// Release undoes Hold; it does not end claims.
	Release(ctx context.Context, id string) error
	// Delete removes a message and its recipients without any DSN: an
	// administrative act, like postsuper -d. A runner holding a claim on it
	// may still be delivering; its Complete is then ignored.
	Delete(ctx context.Context, id string) error
	// RetryNow makes every pending recipient of a message due now. It does
	// not end claims: a recipient being attempted is not taken twice.
	RetryNow(ctx context.Context, id string) error
	// MarkWarned records that the message's delay DSN was sent.
	MarkWarned(ctx context.Context, id string) error
	// Purge removes messages without pending recipients whose last attempt
	// ended before before (failures kept for the administrator), and
	// returns how many it removed.
	Purge(ctx context.Context, before time.Time) (int, error)
	// Stats counts the queue; metrics call it at scrape time.
	Stats(ctx context.Context) (Stats, error)
	Close() error
}

// ValidID reports whether id has the form NewID gives: what a Rookery node
// relaying a queued message over LMTP sends as ENVID.
func ValidID(id string) bool {
	if len(id) < 12 || len(id) > 40 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// NewID returns a queue ID that sorts by arrival time. Enqueue assigns one
// when Message.ID is empty; an SMTP role may pick it earlier to name it in
// the Received header.
func NewID(t time.Time) string {
	var b [5]byte
	rand.Read(b[:])
	return strconv.FormatInt(t.UnixMicro(), 36) + hex.EncodeToString(b[:])
}
