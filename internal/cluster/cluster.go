// Package cluster is the node registry and the store leases of a cluster,
// kept in PostgreSQL (design: docs/ARCHITECTURE.md, "Cluster").
//
// Every node registers its name, roles and listeners and heartbeats. Each
// mailstore is served by exactly one mailstore node at a time, the holder
// of its lease: a row with holder, epoch and an expiry on the database's
// clock. The holder renews it; when the holder dies, the lease expires and
// the live node ranked first for that store (rendezvous hashing over the
// nodes that list it) takes it with epoch+1, the others after a grace, so
// a dead node's stores spread over the survivors and none stays orphaned.
// The lease alone does not stop a paused or partitioned old holder from
// writing: the mailstore engine checks holder and epoch in every write
// transaction (pgstore's fencing), with the token this package hands out.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rookery-mail/rookery/internal/pglisten"
	"github.com/rookery-mail/rookery/internal/pgschema"
)

// ErrUnserved means no live node holds the store's lease now: mail for it
// waits and logins are refused as temporarily unavailable.
var ErrUnserved = errors.New("cluster: no node serves the store now")

// Options configure Open.
type Options struct {
	DSN    string
	Schema string // default "cluster"
	// Node is this node's unique name; Roles and Endpoints (proto →
	// host:port other nodes dial) are what it registers.
	Node      string
	Roles     []string
	Endpoints map[string]string
	// Stores are the stores this node may serve: those of its config when
	// it has the mailstore role, else none. Every store named by any node
	// gets a lease row.
	Stores []string
	TTL    time.Duration // lease lifetime without renewal
	Logger *slog.Logger
	// OnAcquire and OnLose are called from Run's goroutine when this node
	// starts or stops serving a store (lease taken; lease lost, expired
	// unrenewed, or handed over). OnLose runs before the lease is offered
	// to others on a handover.
	OnAcquire func(store string, epoch int64)
	OnLose    func(store string)
	// OnMessage, when set, receives other nodes' Broadcasts (messages.go),
	// from one goroutine.
	OnMessage func(topic, payload string)
}

// Registry is this node's membership: its heartbeat, its leases, and the
// cached view of who serves which store.
type Registry struct {
	opts   Options
	pool   *pgxpool.Pool
	log    *slog.Logger
	mu     sync.Mutex
	held   map[string]held       // stores this node serves
	routes map[string]routeEntry // cache for Serving
	// listener relays other nodes' messages; nil without OnMessage.
	listener *pglisten.Listener
}

// held is a lease this node holds. deadline is on the local monotonic
// clock: the renewal's start plus the TTL less a margin, after which the
// node stops writing even if it could not learn that it lost the lease.
type held struct {
	epoch    int64
	deadline time.Time
}

// Open connects, creates or updates the schema, registers the node and a
// lease row for each of its stores. It takes no lease: Run does.
func Open(ctx context.Context, opts Options) (*Registry, error) {
	if opts.Schema == "" {
		opts.Schema = "cluster"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.TTL <= 0 {
		return nil, fmt.Errorf("cluster: lease TTL must be positive")
	}
	cfg, err := pgxpool.ParseConfig(opts.DSN)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	cfg.MaxConns = 4
	cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	r := &Registry{opts: opts, pool: pool, log: opts.Logger.With("role", "cluster", "node", opts.Node),
		held: map[string]held{}, routes: map[string]routeEntry{}}
	if err := r.register(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := r.listen(ctx, cfg.ConnConfig); err != nil {
		pool.Close()
		return nil, err
	}
	return r, nil
}

func (r *Registry) register(ctx context.Context) error {
	if err := pgschema.Migrate(ctx, r.pool, r.opts.Schema, migrations, nil); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	// Never NULL: a front end has no stores, a test node no roles.
	stores, roles, endpoints := r.opts.Stores, r.opts.Roles, r.opts.Endpoints
	if stores == nil {
		stores = []string{}
	}
	if roles == nil {
		roles = []string{}
	}
	if endpoints == nil {
		endpoints = map[string]string{}
	}
	if _, err := r.pool.Exec(ctx, `
		INSERT INTO nodes (name, roles, stores, endpoints) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE SET roles = $2, stores = $3, endpoints = $4,
			started_at = now(), heartbeat_at = now()`,
		r.opts.Node, roles, stores, endpoints); err != nil {
		return fmt.Errorf("cluster: register node %s: %w", r.opts.Node, err)
	}
	for _, s := range r.opts.Stores {
		if _, err := r.pool.Exec(ctx, `INSERT INTO leases (store) VALUES ($1) ON CONFLICT DO NOTHING`, s); err != nil {
			return fmt.Errorf("cluster: lease row for %s: %w", s, err)
		}
	}
	return nil
}

// Node is this node's name.
func (r *Registry) Node() string { return r.opts.Node }

// Token is the fencing token of this node's lease on store: what every
// write transaction of the store checks. ok is false when the node does
// not hold the lease or its renewal is overdue.
func (r *Registry) Token(store string) (holder string, epoch int64, ok bool) {
	r.mu.Lock()
	h, held := r.held[store]
	r.mu.Unlock()
	if !held || !time.Now().Before(h.deadline) {
		return "", 0, false
	}
	return r.opts.Node, h.epoch, true
}

// Serves reports whether this node holds store's lease now.
func (r *Registry) Serves(store string) bool {
	_, _, ok := r.Token(store)
	return ok
}

// Close ends the heartbeat connection pool. Release first to hand the
// leases over at once.
func (r *Registry) Close() {
	if r.listener != nil {
		r.listener.Close()
	}
	r.pool.Close()
}

// rank orders nodes for a store by rendezvous hashing: the highest score
// takes over first. Every node computes the same order without talking.
func rank(store, node string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(store))
	h.Write([]byte{0})
	h.Write([]byte(node))
	return h.Sum64()
}
