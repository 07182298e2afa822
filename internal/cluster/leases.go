package cluster

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// leaseMargin is subtracted from the TTL for the local deadline: a node
// stops writing a little before the database would let another take over.
// The fencing check in each write is what makes it safe; the margin only
// keeps doomed writes from being attempted.
const leaseMargin = 500 * time.Millisecond

// Run heartbeats and keeps the leases until ctx ends: every TTL/3 it
// renews what it holds, takes stores that lack a live holder in rank
// order, and hands a store over to a better-ranked node that has been up
// for two TTLs (so a cluster started node by node ends balanced). It
// returns when ctx is done; call Release after.
func (r *Registry) Run(ctx context.Context) {
	tick := time.NewTicker(r.opts.TTL / 3)
	defer tick.Stop()
	for {
		if err := r.round(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("cluster round failed", "err", err)
		}
		r.expireOverdue()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// storeState is one lease row with the database's judgement of it.
type storeState struct {
	store, holder string
	epoch         int64
	valid         bool          // expires_at > now()
	overdue       time.Duration // now() - expires_at when not valid
}

// peer is a live mailstore node that may serve stores.
type peer struct {
	name   string
	stores map[string]bool
	uptime time.Duration
}

// round is one heartbeat: renew, take over, hand over.
func (r *Registry) round(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.opts.TTL/3)
	defer cancel()
	if _, err := r.pool.Exec(ctx, `UPDATE nodes SET heartbeat_at = now() WHERE name = $1`, r.opts.Node); err != nil {
		return err
	}
	r.renew(ctx)
	if len(r.opts.Stores) == 0 {
		return nil
	}
	leases, peers, err := r.load(ctx)
	if err != nil {
		return err
	}
	grace := r.opts.TTL / 3
	for _, l := range leases {
		order := ranked(l.store, peers)
		pos := position(order, r.opts.Node)
		if pos < 0 {
			continue // not a store of this node
		}
		if r.Serves(l.store) {
			// Hand over to a better-ranked node that has been up a while.
			if best := order[0]; best.name != r.opts.Node && best.uptime >= 2*r.opts.TTL {
				r.handOver(ctx, l.store, best.name)
			}
			continue
		}
		if l.holder == "" || l.holder == r.opts.Node || (!l.valid && l.overdue >= time.Duration(pos)*grace) {
			r.acquire(ctx, l.store, time.Duration(pos)*grace)
		}
	}
	return nil
}

// load reads every lease and every live mailstore node, judged by the
// database clock.
func (r *Registry) load(ctx context.Context) ([]storeState, []peer, error) {
	rows, err := r.pool.Query(ctx, `
		SELECT store, coalesce(holder, ''), epoch, expires_at > now(),
		       extract(epoch FROM greatest(now() - expires_at, '0'))::float8
		  FROM leases ORDER BY store`)
	if err != nil {
		return nil, nil, err
	}
	leases, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storeState, error) {
		var s storeState
		var overdue float64
		err := row.Scan(&s.store, &s.holder, &s.epoch, &s.valid, &overdue)
		s.overdue = time.Duration(overdue * float64(time.Second))
		return s, err
	})
	if err != nil {
		return nil, nil, err
	}
	rows, err = r.pool.Query(ctx, `
		SELECT name, stores, extract(epoch FROM now() - started_at)::float8
		  FROM nodes WHERE heartbeat_at > now() - $1::interval AND cardinality(stores) > 0`,
		r.opts.TTL.String())
	if err != nil {
		return nil, nil, err
	}
	peers, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (peer, error) {
		var p peer
		var stores []string
		var up float64
		err := row.Scan(&p.name, &stores, &up)
		p.stores = map[string]bool{}
		for _, s := range stores {
			p.stores[s] = true
		}
		p.uptime = time.Duration(up * float64(time.Second))
		return p, err
	})
	return leases, peers, err
}

// ranked lists the live peers that may serve store, best first.
func ranked(store string, peers []peer) []peer {
	var out []peer
	for _, p := range peers {
		if p.stores[store] {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b peer) int { return cmp.Compare(rank(store, b.name), rank(store, a.name)) })
	return out
}

func position(order []peer, node string) int {
	for i, p := range order {
		if p.name == node {
			return i
		}
	}
	return -1
}

// acquire takes store's lease if it is free, this node's own (a previous
// incarnation: the new epoch fences it), or expired for at least grace.
func (r *Registry) acquire(ctx context.Context, store string, grace time.Duration) {
	start := time.Now()
	var epoch int64
	err := r.pool.QueryRow(ctx, `
		UPDATE leases SET holder = $2, epoch = epoch + 1, expires_at = now() + $3::interval
		 WHERE store = $1 AND (holder IS NULL OR holder = $2 OR expires_at < now() - $4::interval)
		RETURNING epoch`, store, r.opts.Node, r.opts.TTL.String(), grace.String()).Scan(&epoch)
	if errors.Is(err, pgx.ErrNoRows) {
		return
	}
	if err != nil {
		r.log.Warn("lease acquire failed", "store", store, "err", err)
		return
	}
	r.mu.Lock()
	r.held[store] = held{epoch: epoch, deadline: start.Add(r.opts.TTL - leaseMargin)}
	delete(r.routes, store)
	r.mu.Unlock()
	r.log.Info("serving store", "store", store, "epoch", epoch)
	if r.opts.OnAcquire != nil {
		r.opts.OnAcquire(store, epoch)
	}
}

// renew extends every held lease; one whose row no longer names this node
// and epoch is lost at once. A failed renewal (database unreachable) keeps
// the lease until its local deadline.
func (r *Registry) renew(ctx context.Context) {
	r.mu.Lock()
	mine := make(map[string]held, len(r.held))
	for s, h := range r.held {
		mine[s] = h
	}
	r.mu.Unlock()
	for store, h := range mine {
		start := time.Now()
		tag, err := r.pool.Exec(ctx, `
			UPDATE leases SET expires_at = now() + $4::interval
			 WHERE store = $1 AND holder = $2 AND epoch = $3 AND expires_at > now()`,
			store, r.opts.Node, h.epoch, r.opts.TTL.String())
		switch {
		case err != nil:
			r.log.Warn("lease renewal failed", "store", store, "err", err)
		case tag.RowsAffected() == 0:
			r.lose(store, h.epoch, "lease taken over")
		default:
			r.mu.Lock()
			if cur, ok := r.held[store]; ok && cur.epoch == h.epoch {
				r.held[store] = held{epoch: h.epoch, deadline: start.Add(r.opts.TTL - leaseMargin)}
			}
			r.mu.Unlock()
		}
	}
}

// expireOverdue drops leases whose local deadline passed unrenewed: the
// database may already have given them to another node.
func (r *Registry) expireOverdue() {
	r.mu.Lock()
	overdue := map[string]int64{}
	for s, h := range r.held {
		if !time.Now().Before(h.deadline) {
			overdue[s] = h.epoch
		}
	}
	r.mu.Unlock()
	for s, epoch := range overdue {
		r.lose(s, epoch, "lease not renewed in time")
	}
}

// lose stops serving store (if still at epoch) and tells the server.
func (r *Registry) lose(store string, epoch int64, why string) {
	r.mu.Lock()
	h, ok := r.held[store]
	if ok && h.epoch == epoch {
		delete(r.held, store)
	}
	delete(r.routes, store)
	r.mu.Unlock()
	if !ok || h.epoch != epoch {
		return
	}
	r.log.Warn("stopped serving store", "store", store, "epoch", epoch, "why", why)
	if r.opts.OnLose != nil {
		r.opts.OnLose(store)
	}
}

// handOver gives store to a better-ranked node: stop serving here first,
// then mark the lease expired now, so the best node (no grace) takes it on
// its next round while the others wait their grace.
func (r *Registry) handOver(ctx context.Context, store, to string) {
	r.mu.Lock()
	h := r.held[store]
	r.mu.Unlock()
	r.lose(store, h.epoch, "handing over to "+to)
	if _, err := r.pool.Exec(ctx, `UPDATE leases SET expires_at = now() WHERE store = $1 AND holder = $2 AND epoch = $3`,
		store, r.opts.Node, h.epoch); err != nil {
		r.log.Warn("lease hand-over failed; it will expire", "store", store, "err", err)
	}
}

// Release gives up every lease and the heartbeat on shutdown, after the
// node stopped writing: the survivors take the stores at their next round
// instead of after the TTL.
func (r *Registry) Release(ctx context.Context) {
	r.mu.Lock()
	stores := make(map[string]held, len(r.held))
	for s, h := range r.held {
		stores[s] = h
	}
	r.held = map[string]held{}
	r.mu.Unlock()
	for s, h := range stores {
		if _, err := r.pool.Exec(ctx, `UPDATE leases SET expires_at = now() - $4::interval
			WHERE store = $1 AND holder = $2 AND epoch = $3`, s, r.opts.Node, h.epoch, r.opts.TTL.String()); err != nil {
			r.log.Warn("lease release failed; it will expire", "store", s, "err", err)
		}
	}
	if _, err := r.pool.Exec(ctx, `UPDATE nodes SET heartbeat_at = 'epoch' WHERE name = $1`, r.opts.Node); err != nil {
		r.log.Warn("node deregistration failed", "err", err)
	}
}
