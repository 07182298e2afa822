// Package directory is the shared user database: domains, accounts with
// their password hashes and mailstore, and aliases. Engines: sqlitedir (the
// embedded default) and pgdir (PostgreSQL); both pass directory/dirtest.
// DKIM signing keys live here too, because every submission node of a
// cluster must sign with the same keys.
package directory

import (
	"context"
	"errors"
)

// Errors every engine returns (wrapped is fine; callers use errors.Is).
var (
	ErrNotFound   = errors.New("directory: not found")
	ErrExists     = errors.New("directory: already exists")
	ErrAuthFailed = errors.New("directory: authentication failed")
	ErrInvalid    = errors.New("directory: invalid value")
)

// Domain is a domain this system receives mail for.
type Domain struct {
	Name string // lower case, ASCII (A-labels)
}

// DefaultMailstore is the mailstore engines give an account added without
// one when their options name none (config.DefaultMailstore is the same).
const DefaultMailstore = "default"

// Account is a user with a mailbox.
type Account struct {
	Address   string // canonical: lower case "local@domain"
	Mailstore string // the mailstore that holds the account's mail
}

// Alias maps one address to targets. An address "@domain" is the domain's
// catch-all, used when no account or alias matches exactly.
type Alias struct {
	Address string
	Targets []string
}

// Resolution is where mail for one address goes: the local accounts that
// receive a copy, and the addresses of other systems that an alias forwards
// to (canonical, each once), which the queue relays through outbound.
type Resolution struct {
	Accounts []Account
	Forward  []string
}

// Directory is the interface roles use; engines implement it.
type Directory interface {
	AddDomain(ctx context.Context, name string) error
	// DeleteDomain fails with ErrExists while accounts or aliases remain.
	// It deletes the domain's DKIM keys.
	DeleteDomain(ctx context.Context, name string) error
	Domains(ctx context.Context) ([]Domain, error)
	IsLocalDomain(ctx context.Context, name string) (bool, error)

	// AddAccount creates an account with the argon2id hash of password, on
	// mailstore (registered if it is not yet), or when that is empty on the
	// store Place chooses. The choice is stored on the account: later
	// stores and rules never move it.
	AddAccount(ctx context.Context, address, password, mailstore string) (Account, error)
	DeleteAccount(ctx context.Context, address string) error
	SetPassword(ctx context.Context, address, password string) error
	Account(ctx context.Context, address string) (Account, error)
	// Accounts lists accounts, of one domain or all when domain is "".
	Accounts(ctx context.Context, domain string) ([]Account, error)
	// Authenticate checks a password; any failure is ErrAuthFailed (or a
	// backend error), never a hint of which part was wrong.
	Authenticate(ctx context.Context, address, password string) (Account, error)

	// AddAlias adds targets to an alias (creating it).
	AddAlias(ctx context.Context, address string, targets []string) error
	// DeleteAlias removes one target, or the whole alias when target is "".
	DeleteAlias(ctx context.Context, address, target string) error
	Aliases(ctx context.Context, domain string) ([]Alias, error)

	// Resolve expands an address through aliases and catch-alls to the
	// accounts that receive it and the external addresses it forwards to.
	// An address that reaches neither gives ErrNotFound; a backend failure
	// gives another error (a 4xx, not a 5xx).
	Resolve(ctx context.Context, address string) (Resolution, error)

	// AddDKIMKey stores a signing key of an existing domain (ErrNotFound
	// otherwise); ErrExists if the domain already has the selector.
	AddDKIMKey(ctx context.Context, key DKIMKey) error
	// DKIMKeys lists a local domain's keys, newest first (ErrNotFound if
	// the domain is not local).
	DKIMKeys(ctx context.Context, domain string) ([]DKIMKey, error)

	// EnsureStore registers a mailstore, accepting new users, unless it
	// is registered already (then it changes nothing).
	EnsureStore(ctx context.Context, name string) error
	// AddStore registers a mailstore, accepting new users; ErrExists if it
	// is registered.
	AddStore(ctx context.Context, name string) error
	// SetStoreAccepting opens or closes a store to least-loaded placement
	// (ErrNotFound if it is not registered).
	SetStoreAccepting(ctx context.Context, name string, accepting bool) error
	// Stores lists the registered mailstores by name, with account counts.
	Stores(ctx context.Context) ([]Store, error)

	// AddPlacementRule appends a rule (see NormalizeRule; ErrNotFound if
	// its store is not registered) and returns it with its ID.
	AddPlacementRule(ctx context.Context, rule PlacementRule) (PlacementRule, error)
	// PlacementRules lists the rules in the order Place tries them.
	PlacementRules(ctx context.Context) ([]PlacementRule, error)
	// DeletePlacementRule removes a rule (ErrNotFound if there is none).
	DeletePlacementRule(ctx context.Context, id int64) error

	Close() error
}
