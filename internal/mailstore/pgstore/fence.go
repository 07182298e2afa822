package pgstore

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// Fence makes every write transaction prove that this node holds the
// store's lease (issue #10; design §7.7, the fencing-token rule enforced
// where the data lands). The lease table belongs to the cluster package:
//
//	CREATE TABLE cluster.leases (store text PRIMARY KEY, holder text,
//	  epoch bigint NOT NULL DEFAULT 0, expires_at timestamptz NOT NULL DEFAULT 'epoch')
//
// with one row per store, keyed by Options.Name.
type Fence struct {
	// Table is the lease table, schema-qualified ("cluster.leases"); each
	// dot-separated part is quoted as given, so it is case-sensitive.
	Table string
	// Token returns this node's current lease on the store; !ok means it
	// holds none and every write fails with mailstore.ErrNotServed.
	Token func() (holder string, epoch int64, ok bool)
}

// fence is a Fence with its statement built once.
//
// The check is the first statement of the transaction's final batch, not
// of the transaction (as design §7.7 first had it): its FOR SHARE lock on
// the lease row then lasts only from that batch to COMMIT. The guarantee
// is the same either way: no write of the old holder commits after a
// takeover commits. A write that checked waits out any takeover under way
// and then finds no row, and a takeover waits for writes that checked
// before it; a write that has not checked yet will find the new row and
// roll back. Checked first, each write held the lock through its whole
// transaction, queue for the mailbox lock included, so on a busy store
// share holders overlapped without pause: BenchmarkDeliverFence measured
// ~1 multixact per write and lease renewals (an UPDATE, which must wait
// for every holder) stalled for up to 2.4 s; checked last, renewals take
// what they take unfenced (~20 ms there) and multixacts drop to 0–0.4 per
// write. It also costs no round trip of its own. What it costs is work a
// deposed node does before its write is refused.
type fence struct {
	token func() (string, int64, bool)
	check string
}

// lease is the holder and epoch a transaction writes under.
type lease struct {
	holder string
	epoch  int64
}

func newFence(f *Fence) (*fence, error) {
	if f.Token == nil {
		return nil, errors.New("pgstore: Fence.Token is required")
	}
	parts := strings.Split(f.Table, ".")
	if slices.Contains(parts, "") {
		return nil, fmt.Errorf("pgstore: Fence.Table %q is not a table name", f.Table)
	}
	// FOR SHARE: a takeover's UPDATE of the row waits for this
	// transaction to end, and this statement waits for a takeover under
	// way and then sees its row. Expiry is the database clock's, as for
	// the lease itself, read when the statement runs (now() would be the
	// transaction's start).
	return &fence{token: f.Token, check: `SELECT 1 FROM ` + pgx.Identifier(parts).Sanitize() +
		` WHERE store = $1 AND holder = $2 AND epoch = $3 AND expires_at > clock_timestamp() FOR SHARE`}, nil
}

// lease returns the lease this node holds on the store, or ErrNotServed
// before any work is done if it holds none.
func (f *fence) lease(store string) (lease, error) {
	holder, epoch, ok := f.token()
	if !ok {
		return lease{}, fmt.Errorf("mailstore %q: no lease: %w", store, mailstore.ErrNotServed)
	}
	return lease{holder, epoch}, nil
}

// queueCheck queues the check that the database still has l as the
// store's lease; the batch then fails with ErrNotServed if it has not.
func (f *fence) queueCheck(batch *pgx.Batch, store string, l lease) {
	batch.Queue(f.check, store, l.holder, l.epoch).QueryRow(func(row pgx.Row) error {
		var one int
		err := row.Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("mailstore %q: lease of %q at epoch %d is gone: %w", store, l.holder, l.epoch, mailstore.ErrNotServed)
		}
		return err
	})
}
