package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/rookery-mail/rookery/internal/cluster"
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
// answer, the account's store included: a caller told "not here" by a
// back end asks again with it.
// router.ErrNoStore means no node serves the store now (a temporary
// condition: mail waits, logins get NO [UNAVAILABLE]).
func (s *Server) route(ctx context.Context, acct directory.Account, fresh bool) (storeRoute, error) {
	if fresh && acct.Address != "" {
		// The account may have moved since its login was cached: ask
		// the directory, not the auth cache, where it lives now.
		cur, err := s.dir.Account(ctx, acct.Address)
		if err != nil {
			return storeRoute{}, err
		}
		acct = cur
	}
	st, err := s.router.Store(acct)
	if err == nil || s.cluster == nil || !errors.Is(err, router.ErrNoStore) {
		return storeRoute{Local: st}, err
	}
	srv, err := s.cluster.Serving(ctx, acct.Mailstore, fresh)
	if errors.Is(err, cluster.ErrUnserved) {
		return storeRoute{}, fmt.Errorf("%w: %w", router.ErrNoStore, err)
	}
	if err != nil {
		return storeRoute{}, err
	}
	if srv.Node == s.cfg.Node {
		// Our lease, just taken or about to be renewed: not servable
		// here this instant, and no other node either.
		return storeRoute{}, fmt.Errorf("%w: %s (lease changing hands)", router.ErrNoStore, acct.Mailstore)
	}
	return storeRoute{Node: srv.Node, Endpoints: srv.Endpoints}, nil
}

// lmtpOf is the relay's locator: the LMTP listener of the node serving store.
func (s *Server) lmtpOf(ctx context.Context, store string, fresh bool) (string, error) {
	rt, err := s.route(ctx, directory.Account{Mailstore: store}, fresh)
	if err != nil {
		return "", err
	}
	if rt.Local != nil {
		return "", fmt.Errorf("%w: %s is served here now", router.ErrNoStore, store)
	}
	addr, ok := rt.Endpoints["lmtp"]
	if !ok {
		return "", fmt.Errorf("%w: node %s serving %s has no LMTP listener", router.ErrNoStore, rt.Node, store)
	}
	return addr, nil
}
