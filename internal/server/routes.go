package server

import (
	"context"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/router"
)

// storeRoute is where a mailstore is served, as this node sees it: here
// (Local) or by another node of the cluster, reached at its listeners.
type storeRoute struct {
	Local mailstore.Store // non-nil when this node serves the store
	// Node and Endpoints name the serving node and its listeners by
	// protocol ("imap", "pop3", "lmtp" → host:port) when it is not this one.
	Node      string
	Endpoints map[string]string
}

// route finds the node serving acct's store. fresh skips any cached
// answer: a caller told "not here" by a back end asks again with it.
// router.ErrNoStore means no node serves the store now (a temporary
// condition: mail waits, logins get NO [UNAVAILABLE]).
func (s *Server) route(ctx context.Context, acct directory.Account, fresh bool) (storeRoute, error) {
	st, err := s.router.Store(acct)
	if err != nil {
		return storeRoute{}, err
	}
	return storeRoute{Local: st}, nil
}

var _ = router.ErrNoStore
