// Package queue is the durable mail queue: every message accepted by an SMTP
// role is committed here before the client gets 250, and runners deliver it
// from here. Store is the storage boundary (sqlitequeue now; a PostgreSQL +
// object-store engine with the cluster issue); Runner is the delivery loop.
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

// Message is a queued message: envelope, per-recipient state and body.
type Message struct {
	ID         string
	From       string // reverse path; "" is the null sender
	Recipients []Recipient
	Received   time.Time
	Size       int64
	SMTPUTF8   bool
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
}

// Status is a recipient's delivery state.
type Status string

const (
	Pending   Status = "pending"
	Delivered Status = "delivered"
	Failed    Status = "failed" // permanent failure; kept for the administrator (DSNs come with the outbound issue)
)

// Result is the outcome of one delivery attempt for one recipient.
type Result struct {
	MessageID string
	Recipient string // Recipient.Address
	Status    Status // Delivered, Failed, or Pending to retry at NextAttempt
	Error     string
	// NextAttempt is when to retry a Pending result.
	NextAttempt time.Time
}

// Store persists the queue.
type Store interface {
	// Enqueue assigns msg.ID and stores the message. It returns only after
	// the message is durable; concurrent calls share commits (group commit).
	Enqueue(ctx context.Context, msg *Message) error
	// Due returns up to limit messages that have pending recipients due at
	// now, with only those recipients and without bodies, oldest first.
	Due(ctx context.Context, now time.Time, limit int) ([]*Message, error)
	// Body returns a message's body.
	Body(ctx context.Context, id string) ([]byte, error)
	// Complete records attempt results; a message whose recipients are all
	// delivered is removed.
	Complete(ctx context.Context, results []Result) error
	// List returns every queued message (without bodies) for administration.
	List(ctx context.Context) ([]*Message, error)
	Close() error
}

// NewID returns a queue ID that sorts by arrival time. Enqueue assigns one
// when Message.ID is empty; an SMTP role may pick it earlier to name it in
// the Received header.
func NewID(t time.Time) string {
	var b [5]byte
	rand.Read(b[:])
	return strconv.FormatInt(t.UnixMicro(), 36) + hex.EncodeToString(b[:])
}
