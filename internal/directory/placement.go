package directory

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrNoStore: a new account has no rule and no mailstore that accepts new
// users (every registered store was closed to them).
var ErrNoStore = errors.New("directory: no mailstore accepts new users")

// Store is a named mailstore of the registry, which placement chooses from.
type Store struct {
	Name string
	// AcceptsNewUsers: the least-loaded choice may place new accounts
	// here. Rules and explicit stores ignore it.
	AcceptsNewUsers bool
	Accounts        int // accounts placed on the store
}

// PlacementRule sends a new account that matches it to Store. Rules are
// tried in ID order (IDs only grow), and the first match wins.
type PlacementRule struct {
	ID      int64
	Domain  string // the address's domain, exactly; "" matches any
	Pattern string // a Go regular expression on the local part; "" matches any
	Store   string
}

// storeName is what a mailstore may be called: the name appears in paths,
// PostgreSQL schema names and the directory. Config checks it too.
var storeName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// CheckStoreName returns ErrInvalid for a name that is not a valid
// mailstore name (config's [[mailstores]] names and the registry's).
func CheckStoreName(name string) error {
	if !storeName.MatchString(name) {
		return fmt.Errorf("mailstore name %q: want lower-case letters, digits, - and _ (at most 40): %w", name, ErrInvalid)
	}
	return nil
}

// NormalizeRule checks a rule before an engine stores it: the domain is
// normalized, the pattern must compile and the store's name be valid
// (that it exists is the engine's check). ID is left as given.
func NormalizeRule(r PlacementRule) (PlacementRule, error) {
	if r.Domain != "" {
		d, err := NormalizeDomain(r.Domain)
		if err != nil {
			return PlacementRule{}, err
		}
		r.Domain = d
	}
	if _, err := regexp.Compile(r.Pattern); err != nil {
		return PlacementRule{}, fmt.Errorf("placement pattern %q: %v: %w", r.Pattern, err, ErrInvalid)
	}
	return r, CheckStoreName(r.Store)
}

// PlacementSource is what Place reads. Engines pass one bound to the
// transaction that inserts the account, so the choice and the insert see
// the same registry.
type PlacementSource interface {
	PlacementRules(ctx context.Context) ([]PlacementRule, error)
	// Stores lists the registry by name, with account counts.
	Stores(ctx context.Context) ([]Store, error)
}

// Place chooses the mailstore of a new account at addr (canonical): the
// first rule that matches, else the accepting store with the fewest
// accounts (the first by name on a tie), else fallback when no store is
// registered at all, which keeps a single node working before anything
// registered its store. Stores are read only when no rule matches. A
// registry whose stores all refuse new users gives ErrNoStore.
func Place(ctx context.Context, src PlacementSource, addr, fallback string) (string, error) {
	rules, err := src.PlacementRules(ctx)
	if err != nil {
		return "", fmt.Errorf("placement rules: %w", err)
	}
	local, domain, _ := strings.Cut(addr, "@")
	for _, r := range rules {
		if r.Domain != "" && r.Domain != domain {
			continue
		}
		// Stored patterns compiled when added; one that no longer does
		// (a future Go's syntax) is skipped rather than failing every add.
		if re, err := regexp.Compile(r.Pattern); err == nil && re.MatchString(local) {
			return r.Store, nil
		}
	}
	stores, err := src.Stores(ctx)
	if err != nil {
		return "", fmt.Errorf("mailstores: %w", err)
	}
	if len(stores) == 0 {
		return fallback, nil
	}
	best := -1
	for i, s := range stores {
		if s.AcceptsNewUsers && (best < 0 || s.Accounts < stores[best].Accounts) {
			best = i
		}
	}
	if best < 0 {
		return "", ErrNoStore
	}
	return stores[best].Name, nil
}
