package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// NodeStatus is one registered node as `rookery cluster status` shows it.
type NodeStatus struct {
	Name      string
	Roles     []string
	Stores    []string
	Endpoints map[string]string
	Started   time.Time
	Heartbeat time.Duration // since the last heartbeat, by the database clock
	Alive     bool          // heartbeat within the lease TTL
}

// LeaseStatus is one store's lease.
type LeaseStatus struct {
	Store   string
	Holder  string
	Epoch   int64
	Valid   bool
	Expires time.Duration // until expiry (negative: expired that long ago)
}

// Status is the cluster's membership and leases.
type Status struct {
	Nodes  []NodeStatus
	Leases []LeaseStatus
}

// ReadStatus reads the registry without joining it (the admin CLI).
func ReadStatus(ctx context.Context, dsn, schema string, ttl time.Duration) (Status, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return Status{}, fmt.Errorf("cluster: %w", err)
	}
	cfg.MaxConns = 1
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return Status{}, fmt.Errorf("cluster: %w", err)
	}
	defer pool.Close()
	var st Status
	rows, err := pool.Query(ctx, `
		SELECT name, roles, stores, endpoints, started_at,
		       extract(epoch FROM now() - heartbeat_at)::float8, heartbeat_at > now() - $1::interval
		  FROM nodes ORDER BY name`, ttl.String())
	if err != nil {
		return Status{}, fmt.Errorf("cluster: read nodes (is this a cluster? schema %q): %w", schema, err)
	}
	if st.Nodes, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (NodeStatus, error) {
		var n NodeStatus
		var hb float64
		err := row.Scan(&n.Name, &n.Roles, &n.Stores, &n.Endpoints, &n.Started, &hb, &n.Alive)
		n.Heartbeat = seconds(hb)
		return n, err
	}); err != nil {
		return Status{}, fmt.Errorf("cluster: read nodes: %w", err)
	}
	rows, err = pool.Query(ctx, `
		SELECT store, coalesce(holder, ''), epoch, expires_at > now(),
		       extract(epoch FROM expires_at - now())::float8
		  FROM leases ORDER BY store`)
	if err != nil {
		return Status{}, fmt.Errorf("cluster: read leases: %w", err)
	}
	if st.Leases, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (LeaseStatus, error) {
		var l LeaseStatus
		var exp float64
		err := row.Scan(&l.Store, &l.Holder, &l.Epoch, &l.Valid, &exp)
		l.Expires = seconds(exp)
		return l, err
	}); err != nil {
		return Status{}, fmt.Errorf("cluster: read leases: %w", err)
	}
	return st, nil
}

func seconds(f float64) time.Duration {
	return time.Duration(f * float64(time.Second)).Round(100 * time.Millisecond)
}
