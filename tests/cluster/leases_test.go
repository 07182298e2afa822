package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// lease is a store's lease row.
type lease struct {
	holder string
	epoch  int64
	valid  bool
}

// lease reads the store's lease from the cluster schema.
func (c *cluster) lease(t testing.TB, store string) lease {
	t.Helper()
	var l lease
	c.query(t, func(ctx context.Context, conn *pgx.Conn) error {
		err := conn.QueryRow(ctx, `SELECT coalesce(holder, ''), epoch, expires_at > now() FROM cluster.leases WHERE store = $1`, store).Scan(&l.holder, &l.epoch, &l.valid)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	return l
}

// serving waits until a node holds a valid lease on store and returns it.
func (c *cluster) serving(t testing.TB, store string, d time.Duration) (*proc, lease) {
	t.Helper()
	var l lease
	eventually(t, d, "no node holds a lease on "+store, func() bool {
		l = c.lease(t, store)
		return l.valid && l.holder != ""
	})
	return c.node(t, l.holder), l
}

// servingIMAP is the IMAP listener of the node serving store when called
// (a closed port while no node does): reading there checks the store
// itself, without a front end.
func (c *cluster) servingIMAP(t testing.TB, store string) where {
	return func() string {
		if p := c.procs[c.lease(t, store).holder]; p != nil {
			return p.addrs["imap"]
		}
		return "127.0.0.1:1"
	}
}

// settle waits until the stores are where they stay: the first mailstore
// node up takes every store and hands each over to a better-ranked node
// once that is up two lease TTLs, so settle waits for every mailstore node
// to be up that long and then for no lease to change hands for 3 s.
func (c *cluster) settle(t testing.TB) {
	t.Helper()
	eventually(t, 60*time.Second, "the mailstore nodes are not registered", func() bool {
		var up bool
		c.query(t, func(ctx context.Context, conn *pgx.Conn) error {
			return conn.QueryRow(ctx, `SELECT count(*) = $2 AND bool_and(started_at < now() - $1::interval) FROM cluster.nodes
				WHERE 'mailstore' = ANY(roles)`, (2*leaseTTL + leaseTTL/2).String(), len(c.withRole("mailstore"))).Scan(&up)
		})
		return up
	})
	snapshot := func() string {
		var b strings.Builder
		for _, u := range c.users {
			s := u.store
			l := c.lease(t, s)
			if !l.valid || l.holder == "" {
				return ""
			}
			fmt.Fprintf(&b, "%s=%s/%d ", s, l.holder, l.epoch)
		}
		return b.String()
	}
	last, since := "", time.Now()
	eventually(t, 60*time.Second, "the stores' leases did not settle", func() bool {
		now := snapshot()
		if now != last || now == "" {
			last, since = now, time.Now()
		}
		return now != "" && time.Since(since) >= 3*time.Second
	})
	t.Logf("leases: %s", last)
}
