// Package router turns an envelope recipient into deliveries: it asks the
// directory which accounts an address reaches and which mailstore holds
// each, and it performs local delivery for the queue.
package router

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

// Errors of Resolve. Anything else is a temporary failure (451, not 550).
var (
	ErrNotLocal       = errors.New("router: domain is not local")
	ErrUnknownUser    = errors.New("router: unknown recipient")
	ErrNoStore        = errors.New("router: mailstore not served here")
	ErrInvalidAddress = errors.New("router: invalid address")
)

// Router resolves recipients against a directory and the mailstores this
// node serves.
type Router struct {
	dir    directory.Directory
	stores map[string]mailstore.Store
	// Serves, when set, says whether this node serves an opened store
	// now (a cluster node holds its lease); nil means every opened store.
	Serves func(store string) bool
}

// New returns a router over dir and the stores served by this node, by name.
func New(dir directory.Directory, stores map[string]mailstore.Store) *Router {
	return &Router{dir: dir, stores: stores}
}

// Resolve returns the accounts that receive mail for address and the
// external addresses it forwards to.
func (r *Router) Resolve(ctx context.Context, address string) (directory.Resolution, error) {
	// RFC 5321 §4.1.1.3: <Postmaster> without a domain is always local;
	// the directory maps it to the configured postmaster.
	if !strings.EqualFold(address, "postmaster") {
		at := strings.LastIndexByte(address, '@')
		if at <= 0 || at == len(address)-1 {
			return directory.Resolution{}, fmt.Errorf("%w: %q", ErrInvalidAddress, address)
		}
		local, err := r.dir.IsLocalDomain(ctx, address[at+1:])
		if err != nil {
			return directory.Resolution{}, fmt.Errorf("resolve %q: %w", address, err)
		}
		if !local {
			return directory.Resolution{}, fmt.Errorf("%w: %q", ErrNotLocal, address)
		}
	}
	res, err := r.dir.Resolve(ctx, address)
	if errors.Is(err, directory.ErrNotFound) || errors.Is(err, directory.ErrInvalid) ||
		(err == nil && len(res.Accounts) == 0 && len(res.Forward) == 0) {
		return directory.Resolution{}, fmt.Errorf("%w: %q", ErrUnknownUser, address)
	}
	if err != nil {
		return directory.Resolution{}, fmt.Errorf("resolve %q: %w", address, err)
	}
	return res, nil
}

// Store returns the mailstore holding acct, if this node serves it.
func (r *Router) Store(acct directory.Account) (mailstore.Store, error) {
	s, ok := r.stores[acct.Mailstore]
	if !ok || (r.Serves != nil && !r.Serves(acct.Mailstore)) {
		return nil, fmt.Errorf("%w: %q (account %s)", ErrNoStore, acct.Mailstore, acct.Address)
	}
	return s, nil
}

// IsLocal reports whether address belongs to a domain of this system, so
// mail to it is delivered to a mailstore rather than over SMTP.
func (r *Router) IsLocal(ctx context.Context, address string) (bool, error) {
	at := strings.LastIndexByte(address, '@')
	if at < 0 {
		return false, fmt.Errorf("%w: %q", ErrInvalidAddress, address)
	}
	return r.dir.IsLocalDomain(ctx, address[at+1:])
}
