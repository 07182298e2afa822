// Package mailstore is the mailbox model: accounts, mailboxes, messages with
// UIDs, flags and MODSEQs. Store is implemented by engines below this package
// (sqlitestore, and pgstore on PostgreSQL with any blob store); every engine passes the
// conformance suite in mailstore/storetest.
package mailstore

import (
	"context"
	"errors"
	"io"
	"time"
)

// Errors every engine returns (wrapped is fine; callers use errors.Is).
var (
	ErrNoAccount     = errors.New("mailstore: no such account")
	ErrNoMailbox     = errors.New("mailstore: no such mailbox")
	ErrMailboxExists = errors.New("mailstore: mailbox already exists")
	ErrInvalidName   = errors.New("mailstore: invalid mailbox name")
	ErrNoMessage     = errors.New("mailstore: no such message")
	// ErrOverQuota: the change would take the account over its storage or
	// message limit. Removing mail is always allowed.
	ErrOverQuota = errors.New("mailstore: over quota")
	// ErrNoIndex: the full-text index cannot answer this query (for
	// example a needle shorter than the index's grain); scan instead.
	ErrNoIndex = errors.New("mailstore: full-text index cannot answer")
	// ErrNoSpace: the disk (or the file system quota) under the store is
	// full. Unlike ErrOverQuota it is the node's state, not the account's:
	// the same write may succeed once space is freed.
	ErrNoSpace = errors.New("mailstore: no space left on device")
	// ErrBlobMissing: OpenBlob found no body under that id in the blob
	// store. Engines wrap their blob store's own not-found error with it,
	// so protocols answer without knowing which blob store is in use.
	ErrBlobMissing = errors.New("mailstore: message body missing")
)

// Separator is the hierarchy delimiter of mailbox names ("Archive/2024").
const Separator = "/"

// Inbox is the one mailbox name that is case-insensitive (RFC 3501 §5.1).
const Inbox = "INBOX"

// DefaultMailboxes are created with every account, with their RFC 6154
// SPECIAL-USE attributes.
var DefaultMailboxes = []struct{ Name, SpecialUse string }{
	{Inbox, ""},
	{"Sent", `\Sent`},
	{"Drafts", `\Drafts`},
	{"Trash", `\Trash`},
	{"Junk", `\Junk`},
	{"Archive", `\Archive`},
}

// MailboxInfo is a mailbox's identity and counters.
type MailboxInfo struct {
	ID int64
	// ObjectID is the MAILBOXID (RFC 8474 §4): opaque, set at creation
	// (NewMailboxObjectID), kept across RENAME and never given to another
	// mailbox. It is stored, not derived from ID, so it survives a move
	// between stores and engines.
	ObjectID      string
	Name          string // UTF-8, levels separated by Separator
	SpecialUse    string // `\Sent`, ... or ""
	Subscribed    bool
	UIDValidity   uint32 // set at creation, never changes
	UIDNext       uint32
	HighestModSeq uint64
}

// Status is MailboxInfo plus message counts (IMAP STATUS).
type Status struct {
	MailboxInfo
	Messages uint32
	Unseen   uint32
	Deleted  uint32
	Recent   uint32 // messages no session has claimed yet (see ClaimRecent)
	Size     int64  // sum of message sizes (STATUS=SIZE)
}

// Message is one message's metadata in one mailbox.
type Message struct {
	UID          uint32
	ModSeq       uint64
	Flags        []string // system flags (`\Seen`) and keywords, sorted, no duplicates
	InternalDate time.Time
	SaveDate     time.Time // when it was added to this mailbox (RFC 8514)
	// Sent is the sent date SORT (DATE) uses (RFC 5256 §2.2: the Date
	// header, else the internal date), zero while the store does not know
	// it yet; the caller then reads the header itself.
	Sent   time.Time
	Size   int64
	BlobID string
}

// Quota is an account's limits and usage (RFC 9208 STORAGE and MESSAGE
// resources). A limit of 0 means unlimited.
type Quota struct {
	StorageLimit int64 // bytes
	MessageLimit int64
	StorageUsed  int64 // sum of message sizes over all mailboxes
	MessagesUsed int64
}

// ACLEntry is one identifier's rights on a mailbox (RFC 4314). Identifier
// is an account name or "anyone"; Rights are RFC 4314 right letters
// ("lrswipkxtea"), stored sorted without duplicates.
type ACLEntry struct {
	Identifier string
	Rights     string
}

// SharedMailbox is another account's mailbox that grants a user rights,
// directly or through "anyone".
type SharedMailbox struct {
	Owner string
	MailboxInfo
	Rights string // the union of the user's and anyone's rights
}

// TextField selects what SearchText looks in (IMAP SEARCH BODY and TEXT).
type TextField int

const (
	TextBody TextField = iota // decoded text of the body parts
	TextAll                   // header fields and body text
)

// Changes is what happened in a mailbox after a MODSEQ: the basis of
// untagged EXISTS/FETCH/EXPUNGE updates and of CONDSTORE/QRESYNC.
type Changes struct {
	Updated       []Message // added or flag-changed messages, by UID
	Expunged      []uint32  // UIDs expunged, ascending
	HighestModSeq uint64
	UIDNext       uint32
}

// FlagOp says how SetFlags combines the given flags with the current ones.
type FlagOp int

const (
	FlagsReplace FlagOp = iota
	FlagsAdd
	FlagsRemove
)

// ConditionalFlags is a flag change with the UNCHANGEDSINCE test of
// CONDSTORE (RFC 7162 §3.1.3): it applies only to messages whose MODSEQ is
// at most UnchangedSince, judged inside the store's transaction so a
// concurrent change cannot slip between test and update.
type ConditionalFlags struct {
	UIDs           []uint32
	Op             FlagOp
	Flags          []string
	UnchangedSince uint64 // 0 fails for every message, as the RFC says
}

// NewMessage is a message to add to a mailbox.
type NewMessage struct {
	Body         io.Reader // the RFC 5322 message with CRLF line endings
	Flags        []string
	InternalDate time.Time // zero means now
	// DeliveryID, when set, is unique per store: adding a second message
	// with the same ID adds nothing and reports the first one's UID, so a
	// delivery retried after a lost reply is not duplicated.
	DeliveryID string
}

// Delivery is one copy of a message for one account.
type Delivery struct {
	User    string
	Mailbox string // "" means INBOX; a missing mailbox falls back to INBOX
	Message NewMessage
}

// DeliveryResult is the outcome of one Delivery.
type DeliveryResult struct {
	Mailbox   string // the mailbox it landed in
	UID       uint32
	Duplicate bool // DeliveryID was already stored; nothing was added
	Err       error
}

// Store is one mailstore: the accounts placed on it and their mail.
// Methods that change data return after the change is durable and after
// watchers of the changed mailbox have been notified.
type Store interface {
	// Name is the mailstore's name in the directory.
	Name() string

	// EnsureAccount creates the account with DefaultMailboxes if it does
	// not exist yet. It is cheap to call again.
	EnsureAccount(ctx context.Context, user string) error
	DeleteAccount(ctx context.Context, user string) error

	Mailboxes(ctx context.Context, user string) ([]MailboxInfo, error)
	// Mailbox finds a mailbox by name (INBOX case-insensitively).
	Mailbox(ctx context.Context, user, name string) (MailboxInfo, error)
	Status(ctx context.Context, user string, mailboxID int64) (Status, error)
	CreateMailbox(ctx context.Context, user, name, specialUse string) (MailboxInfo, error)
	// DeleteMailbox removes the mailbox and its messages; INBOX cannot be
	// deleted. Its children stay (RFC 3501 §6.3.4: the name is then a
	// \Noselect parent, which Mailboxes does not list).
	DeleteMailbox(ctx context.Context, user, name string) error
	// RenameMailbox renames a mailbox and its children. Renaming INBOX
	// moves its messages to the new mailbox and leaves INBOX empty (RFC 3501 §6.3.5).
	RenameMailbox(ctx context.Context, user, oldName, newName string) error
	// SetSubscribed subscribes to an existing mailbox or unsubscribes from
	// any name. Subscriptions are kept apart from mailboxes: one outlives
	// DELETE (RFC 3501 §6.3.6) and follows RENAME, and MailboxInfo.Subscribed
	// reports it for a mailbox of that name.
	SetSubscribed(ctx context.Context, user, name string, subscribed bool) error
	// Subscriptions lists the user's subscribed names, sorted, whether or
	// not a mailbox has the name.
	Subscriptions(ctx context.Context, user string) ([]string, error)

	// Messages lists a mailbox's messages in UID order.
	Messages(ctx context.Context, user string, mailboxID int64) ([]Message, error)
	// Changes reports what changed in the mailbox after sinceModSeq.
	Changes(ctx context.Context, user string, mailboxID int64, sinceModSeq uint64) (Changes, error)
	// OpenBlob returns a message body by its Message.BlobID; an error
	// wrapping ErrBlobMissing if the blob store has no such body.
	OpenBlob(ctx context.Context, blobID string) (io.ReadCloser, error)

	// Append adds one message to a mailbox (IMAP APPEND).
	Append(ctx context.Context, user string, mailboxID int64, msg NewMessage) (uid uint32, err error)
	// Deliver adds messages for any accounts on this store in one
	// transaction; each delivery succeeds or fails on its own.
	Deliver(ctx context.Context, deliveries []Delivery) ([]DeliveryResult, error)

	// SetFlags changes flags of the given UIDs (missing UIDs are ignored)
	// and returns the changed messages with their new MODSEQ.
	SetFlags(ctx context.Context, user string, mailboxID int64, uids []uint32, op FlagOp, flags []string) ([]Message, error)
	// SetFlagsIf is SetFlags with the UNCHANGEDSINCE test: messages whose
	// MODSEQ is above req.UnchangedSince are left alone and returned in
	// modified (ascending); missing UIDs are in neither list.
	SetFlagsIf(ctx context.Context, user string, mailboxID int64, req ConditionalFlags) (changed []Message, modified []uint32, err error)
	// Copy copies messages; it returns matching source and destination UIDs (UIDPLUS).
	Copy(ctx context.Context, user string, srcID int64, uids []uint32, dstID int64) (src, dst []uint32, err error)
	// Move is Copy plus expunge of the sources, atomically.
	Move(ctx context.Context, user string, srcID int64, uids []uint32, dstID int64) (src, dst []uint32, err error)
	// Expunge removes the messages flagged \Deleted among uids (all of
	// them when uids is nil) and returns the expunged UIDs.
	Expunge(ctx context.Context, user string, mailboxID int64, uids []uint32) ([]uint32, error)

	// SetQuota sets the account's limits (0 = unlimited). Lowering a limit
	// below the usage is allowed; further additions then fail with ErrOverQuota.
	SetQuota(ctx context.Context, user string, storageLimit, messageLimit int64) error
	// Quota reports the account's limits and usage.
	Quota(ctx context.Context, user string) (Quota, error)

	// SetACL sets identifier's rights on owner's mailbox; empty rights
	// remove the entry. The ACL follows the mailbox through RENAME and
	// goes with it on DELETE.
	SetACL(ctx context.Context, owner, mailbox, identifier, rights string) error
	// ACL lists the entries of owner's mailbox, by identifier.
	ACL(ctx context.Context, owner string, mailboxID int64) ([]ACLEntry, error)
	// SharedWith lists the mailboxes of other accounts on this store with
	// an entry for user or "anyone", by owner then name.
	SharedWith(ctx context.Context, user string) ([]SharedMailbox, error)

	// SearchText returns, ascending, the UIDs of the mailbox's messages
	// whose text contains needle with IMAP SEARCH semantics (decoded,
	// case-insensitive substring), answered from the full-text index.
	// ErrNoIndex means the caller must scan the messages itself.
	SearchText(ctx context.Context, user string, mailboxID int64, field TextField, needle string) ([]uint32, error)

	// Headers returns the top-level header sections (up to and including
	// the blank line) of the given messages from the store's header cache,
	// by UID. Messages not cached (yet) are absent: the caller reads their
	// blob. SORT and THREAD on a large mailbox need nothing else.
	Headers(ctx context.Context, user string, mailboxID int64, uids []uint32) (map[uint32][]byte, error)

	// ClaimRecent ends the \Recent state of the mailbox's messages below
	// UID upTo and returns the lowest UID that was recent before: the
	// messages from there up to upTo are recent to this caller alone
	// (IMAP4rev1 \Recent, RFC 3501 §2.3.2). The mark never moves back, so
	// concurrent claimers get disjoint ranges; upTo 0 only reads it.
	ClaimRecent(ctx context.Context, user string, mailboxID int64, upTo uint32) (uint32, error)

	// URLAuthKey returns user's secret key for the mailbox, the mailbox
	// access key of IMAP URLAUTH (RFC 4467 §7), creating a random one on
	// first use. It is kept until ResetURLAuthKeys or the mailbox is deleted.
	URLAuthKey(ctx context.Context, user string, mailboxID int64) ([]byte, error)
	// ResetURLAuthKeys forgets user's key of the mailbox (of all user's
	// mailboxes when mailboxID is 0), so URLs made with it stop working
	// (RFC 4467 RESETKEY).
	ResetURLAuthKeys(ctx context.Context, user string, mailboxID int64) error

	// Watch returns a channel that receives a value (coalesced) after any
	// committed change to the mailbox, until cancel is called. With
	// AnyMailbox it signals after any change to the user's mailboxes,
	// including creation, deletion, rename and subscription.
	Watch(user string, mailboxID int64) (ch <-chan struct{}, cancel func())

	// Check verifies the store's invariants (every message's blob exists,
	// UIDs below UIDNEXT and unique, MODSEQs below HIGHESTMODSEQ, unique
	// delivery IDs) and returns a description of each violation.
	Check(ctx context.Context) ([]string, error)

	// CollectGarbage deletes the bodies whose last message went away
	// (expunge, move, mailbox or account delete) before orphanedBefore
	// and that no message references now, and returns how many it
	// deleted. A body delivered again before then is kept. The server
	// runs it on a schedule with orphanedBefore = now - grace; the grace
	// must exceed the longest time between a delivery's body write and
	// its commit.
	CollectGarbage(ctx context.Context, orphanedBefore time.Time) (int, error)

	Close() error
}
