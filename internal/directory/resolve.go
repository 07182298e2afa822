package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// MaxAliasDepth bounds alias-to-alias nesting. Deeper chains are almost
// certainly a mistake, and the bound keeps one RCPT from walking the table.
const MaxAliasDepth = 10

// Lookup is what Expand needs from an engine: exact-match reads, ideally
// from one consistent snapshot (a read transaction).
type Lookup interface {
	// LookupAccount returns the account with this canonical address;
	// found is false when there is none.
	LookupAccount(ctx context.Context, address string) (acct Account, found bool, err error)
	// LookupAlias returns the targets of this canonical alias address (or
	// catch-all "@domain"); found is false when there is no such alias.
	LookupAlias(ctx context.Context, address string) (targets []string, found bool, err error)
	IsLocalDomain(ctx context.Context, domain string) (bool, error)
}

// Policy is the part of resolution that comes from the node's
// configuration rather than the directory's data.
type Policy struct {
	// Postmaster is the address that receives postmaster@ and abuse@ of
	// every local domain that has no such account or alias, and the bare
	// "Postmaster" RFC 5321 §4.1.1.3 requires every server to accept.
	// Empty: those addresses resolve like any other.
	Postmaster string
}

// roleLocals are the local parts every domain must receive: postmaster
// (RFC 5321 §4.5.1) and abuse (RFC 2142 §2).
var roleLocals = []string{"postmaster", "abuse"}

// Expand implements Directory.Resolve for an engine, so every engine
// resolves the same way:
//
//   - an account with the exact address receives the mail; an alias with the
//     same address adds its targets (an account may also forward a copy);
//   - else an alias with the exact address expands to its targets;
//   - else postmaster@ and abuse@ of a local domain expand to
//     Policy.Postmaster, if set (before the catch-all, whose owner is not
//     necessarily an administrator);
//   - else the catch-all "@domain" of a local domain expands;
//   - else ErrNotFound (also for a domain that is not local).
//
// Targets are resolved by the same rules, recursively up to MaxAliasDepth.
// Each address is expanded once, so loops and diamonds end quietly and the
// result has no duplicates. Targets outside the local domains are
// forwarded: they make up the Resolution's Forward list. A local target
// that matches nothing falls to its domain's catch-all, if any, else it is
// skipped. If neither an account nor a forward remains the result is
// ErrNotFound.
func Expand(ctx context.Context, l Lookup, address string, p Policy) (Resolution, error) {
	if p.Postmaster != "" {
		pm, err := NormalizeAddress(p.Postmaster)
		if err != nil {
			return Resolution{}, fmt.Errorf("resolve: postmaster: %w", err)
		}
		p.Postmaster = pm
		if strings.EqualFold(strings.TrimSpace(address), "postmaster") {
			address = pm // RFC 5321 §4.1.1.3: <Postmaster> without a domain
		}
	}
	addr, err := NormalizeAddress(address)
	if err != nil {
		// Not deliverable either way; ErrNotFound so the caller answers 550.
		return Resolution{}, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	e := &expansion{l: l, policy: p, seen: map[string]bool{}, local: map[string]bool{}}
	if err := e.expand(ctx, addr, 0); err != nil {
		return Resolution{}, err
	}
	if len(e.out.Accounts) == 0 && len(e.out.Forward) == 0 {
		return Resolution{}, fmt.Errorf("resolve %s: %w", addr, ErrNotFound)
	}
	return e.out, nil
}

type expansion struct {
	l      Lookup
	policy Policy
	seen   map[string]bool // addresses already expanded
	local  map[string]bool // cache of IsLocalDomain answers
	out    Resolution
}

var errTooDeep = errors.New("alias nesting too deep")

func (e *expansion) expand(ctx context.Context, addr string, depth int) error {
	if e.seen[addr] {
		return nil
	}
	e.seen[addr] = true
	if depth > MaxAliasDepth {
		return fmt.Errorf("resolve %s: %w (more than %d levels): %w", addr, errTooDeep, MaxAliasDepth, ErrInvalid)
	}
	domain := AddressDomain(addr)
	local, err := e.isLocal(ctx, domain)
	if err != nil {
		return err
	}
	if !local {
		if depth > 0 { // an alias target of another system; the address asked for is not ours
			e.out.Forward = append(e.out.Forward, addr)
		}
		return nil
	}
	acct, isAcct, err := e.l.LookupAccount(ctx, addr)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", addr, err)
	}
	if isAcct {
		e.out.Accounts = append(e.out.Accounts, acct)
	}
	targets, isAlias, err := e.l.LookupAlias(ctx, addr)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", addr, err)
	}
	if !isAcct && !isAlias && e.policy.Postmaster != "" && slices.Contains(roleLocals, addr[:strings.IndexByte(addr, '@')]) {
		return e.expand(ctx, e.policy.Postmaster, depth+1)
	}
	if !isAcct && !isAlias {
		catchAll := "@" + domain
		if e.seen[catchAll] {
			return nil
		}
		e.seen[catchAll] = true
		if targets, isAlias, err = e.l.LookupAlias(ctx, catchAll); err != nil {
			return fmt.Errorf("resolve %s: %w", catchAll, err)
		}
	}
	if !isAlias {
		return nil
	}
	for _, t := range targets {
		if err := e.expand(ctx, t, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (e *expansion) isLocal(ctx context.Context, domain string) (bool, error) {
	if v, ok := e.local[domain]; ok {
		return v, nil
	}
	v, err := e.l.IsLocalDomain(ctx, domain)
	if err != nil {
		return false, fmt.Errorf("resolve: domain %s: %w", domain, err)
	}
	e.local[domain] = v
	return v, nil
}
