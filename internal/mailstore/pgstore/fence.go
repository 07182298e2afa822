package pgstore

import (
	"context"
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
type fence struct {
	token func() (string, int64, bool)
	check string
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
	// transaction to end, so no write of the old holder commits after the
	// new holder starts; a write that starts later sees the new row and
	// finds none. Lease expiry is the database clock's, as for the lease
	// itself.
	return &fence{token: f.Token, check: `SELECT 1 FROM ` + pgx.Identifier(parts).Sanitize() +
		` WHERE store = $1 AND holder = $2 AND epoch = $3 AND expires_at > now() FOR SHARE`}, nil
}

// leased checks, as the first statement of tx, that this node holds the
// lease on the store, and keeps the lease row from changing until tx ends.
func (f *fence) leased(ctx context.Context, tx pgx.Tx, store string) error {
	holder, epoch, ok := f.token()
	if !ok {
		return fmt.Errorf("mailstore %q: no lease: %w", store, mailstore.ErrNotServed)
	}
	var one int
	err := tx.QueryRow(ctx, f.check, store, holder, epoch).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("mailstore %q: lease of %q at epoch %d is gone: %w", store, holder, epoch, mailstore.ErrNotServed)
	}
	if err != nil {
		return fmt.Errorf("check lease: %w", err)
	}
	return nil
}
