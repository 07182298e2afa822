package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// routeTTL bounds how long a front end trusts its cached answer; a back
// end that answers "not here" makes the caller ask again with fresh.
const routeTTL = 2 * time.Second

// Server is the node serving a store and its listeners.
type Server struct {
	Node      string
	Epoch     int64
	Endpoints map[string]string
}

type routeEntry struct {
	srv Server
	at  time.Time
}

// Serving returns the node holding store's lease. fresh bypasses the
// cache. ErrUnserved means no live lease.
func (r *Registry) Serving(ctx context.Context, store string, fresh bool) (Server, error) {
	if !fresh {
		r.mu.Lock()
		e, ok := r.routes[store]
		r.mu.Unlock()
		if ok && time.Since(e.at) < routeTTL {
			return e.srv, nil
		}
	}
	var s Server
	err := r.pool.QueryRow(ctx, `
		SELECT l.holder, l.epoch, n.endpoints FROM leases l JOIN nodes n ON n.name = l.holder
		 WHERE l.store = $1 AND l.expires_at > now()`, store).Scan(&s.Node, &s.Epoch, &s.Endpoints)
	if errors.Is(err, pgx.ErrNoRows) {
		return Server{}, fmt.Errorf("%w: %s", ErrUnserved, store)
	}
	if err != nil {
		return Server{}, fmt.Errorf("cluster: who serves %s: %w", store, err)
	}
	r.mu.Lock()
	r.routes[store] = routeEntry{s, time.Now()}
	r.mu.Unlock()
	return s, nil
}
