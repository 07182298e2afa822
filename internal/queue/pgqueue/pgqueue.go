// Package pgqueue is the queue engine several nodes share: envelopes and
// delivery state in PostgreSQL, bodies in a blob.Keyed store (S3) under the
// message's queue ID. Runners claim due recipients with SELECT ... FOR
// UPDATE SKIP LOCKED, so two nodes never take the same work
// (queue.ClaimRequest).
//
// A body is written, durably, before its row is committed, so a committed
// row always has its body. The reverse can happen: a body whose row was
// deleted (Delete, Complete, Purge) is removed after the commit, and one
// whose removal failed is recorded in the garbage table in the deleting
// transaction and removed by Sweep (Purge runs it). A body whose Enqueue
// failed after the upload (a crash, the database down) stays in the object
// store: its commit may have succeeded unseen, so it is never removed on a
// guess; such bodies are few and harmless, and an object-store lifecycle
// rule may expire them.
package pgqueue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rookery-mail/rookery/internal/blob"
	"github.com/rookery-mail/rookery/internal/queue"
)

// maxBatch bounds one group commit, in messages and in body bytes (the
// bodies are not in the transaction, but their messages wait together).
const (
	maxBatch      = 256
	maxBatchBytes = 64 << 20
)

// keepKey names the body store's one object that is not a body.
const keepKey = ".keep"

// DefaultSchema is the PostgreSQL schema of the queue's tables.
const DefaultSchema = "queue"

// Options configures Open.
type Options struct {
	DSN    string
	Schema string     // DefaultSchema when empty
	Bodies blob.Keyed // where message bodies live; required
	// MaxConns bounds the connection pool; 0 is pgxpool's default.
	MaxConns int32
	Logger   *slog.Logger // nil discards
}

// Queue is the PostgreSQL queue engine. Several Queues (nodes) may share
// one schema and body store.
type Queue struct {
	pool    *pgxpool.Pool
	bodies  blob.Keyed
	log     *slog.Logger
	batches *queue.GroupCommit
}

var _ queue.Store = (*Queue)(nil)

// Open connects, creates or migrates the schema, and starts the committer.
func Open(ctx context.Context, opts Options) (*Queue, error) {
	if opts.Bodies == nil {
		return nil, errors.New("pgqueue: no body store")
	}
	schema := opts.Schema
	if schema == "" {
		schema = DefaultSchema
	}
	cfg, err := pgxpool.ParseConfig(opts.DSN)
	if err != nil {
		return nil, fmt.Errorf("pgqueue: parse DSN: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	// Statements name tables unqualified; the schema comes from the connection.
	cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgqueue: connect: %w", err)
	}
	if err := migrate(ctx, pool, schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgqueue: schema %s: %w", schema, err)
	}
	// An object never deleted keeps the bodies' "directory" from ever
	// being empty: S3 gateways over a file system (versitygw) remove it
	// with its last object, and a PUT racing that fails, which failed
	// Enqueues whenever the queue drained. A queue ID never starts with ".".
	if _, err := opts.Bodies.PutKey(ctx, keepKey, bytes.NewReader(nil)); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgqueue: body store: %w", err)
	}
	q := &Queue{pool: pool, bodies: opts.Bodies, log: opts.Logger}
	if q.log == nil {
		q.log = slog.New(slog.DiscardHandler)
	}
	q.batches = queue.NewGroupCommit(q.insert, maxBatch, maxBatchBytes)
	return q, nil
}

// Enqueue stores the body under the message's ID, then commits the row
// with others arriving at the same time (group commit); see queue.Store.
func (q *Queue) Enqueue(ctx context.Context, msg *queue.Message) error {
	if err := queue.Prepare(msg); err != nil {
		return err
	}
	if _, err := q.bodies.PutKey(ctx, msg.ID, bytes.NewReader(msg.Body)); err != nil {
		return fmt.Errorf("queue body %s: %w", msg.ID, err)
	}
	return q.batches.Commit(ctx, msg)
}

// insert commits one group of messages in one round trip: a batch sent
// outside a transaction runs as one implicit transaction (all or none),
// committed by the batch's Sync, so no BEGIN and COMMIT round trips.
func (q *Queue) insert(ctx context.Context, msgs []*queue.Message) error {
	b := &pgx.Batch{}
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
		b.Queue(`INSERT INTO messages (id, mail_from, received, size, smtputf8, require_tls) VALUES ($1, $2, $3, $4, $5, $6)`,
			m.ID, m.From, m.Received.UnixNano(), len(m.Body), m.SMTPUTF8, m.RequireTLS)
		for ord, rc := range m.Recipients {
			b.Queue(`INSERT INTO recipients (message_id, ord, address, orig, remote, status, next_attempt) VALUES ($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT DO NOTHING`, m.ID, ord, rc.Address, rc.Orig, rc.Remote, queue.Pending, m.Received.UnixNano())
		}
	}
	// An ID is not reused, but if a caller's was, its new body is no garbage.
	b.Queue(`DELETE FROM garbage WHERE id = ANY($1)`, ids)
	if err := q.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("queue insert: %w", dbErr(err))
	}
	return nil
}

// dbErr marks a database out of disk as queue.ErrNoSpace, which SMTP
// answers with 452 4.3.1.
func dbErr(err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "53100" { // disk_full
		return fmt.Errorf("%w: %w", queue.ErrNoSpace, err)
	}
	return err
}

// Body returns a message's body; see queue.Store. The row is checked
// first: a message deleted whose body removal is still to come is gone.
func (q *Queue) Body(ctx context.Context, id string) ([]byte, error) {
	var exists bool
	if err := q.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM messages WHERE id = $1)`, id).Scan(&exists); err != nil {
		return nil, fmt.Errorf("queue body %s: %w", id, err)
	}
	if !exists {
		return nil, fmt.Errorf("%w: %s", queue.ErrNotFound, id)
	}
	r, err := q.bodies.OpenKey(ctx, id)
	if errors.Is(err, blob.ErrNotFound) {
		// Deleted between the two reads, or lost: either way not here.
		return nil, fmt.Errorf("%w: body of %s", queue.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("queue body %s: %w", id, err)
	}
	defer r.Close()
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("queue body %s: %w", id, err)
	}
	return body, nil
}

// Close stops the committer and closes the pool; the body store is the
// caller's.
func (q *Queue) Close() error {
	q.batches.Close()
	q.pool.Close()
	return nil
}
