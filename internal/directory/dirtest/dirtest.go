// Package dirtest is the conformance suite every directory engine must
// pass: Run it from the engine's tests with a function that opens a fresh,
// empty directory.
package dirtest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/rookery-mail/rookery/internal/directory"
)

// Run runs the suite. open must return a new empty directory for each call
// (it is called once per subtest) and arrange its cleanup, e.g. t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) directory.Directory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, d directory.Directory)
	}{
		{"Domains", testDomains},
		{"DomainDeleteRefused", testDomainDeleteRefused},
		{"Accounts", testAccounts},
		{"AccountNeedsDomain", testAccountNeedsDomain},
		{"InvalidAddresses", testInvalidAddresses},
		{"Authenticate", testAuthenticate},
		{"SetPassword", testSetPassword},
		{"Aliases", testAliases},
		{"ResolveAccount", testResolveAccount},
		{"ResolveAliasChain", testResolveAliasChain},
		{"ResolveLoop", testResolveLoop},
		{"ResolveTooDeep", testResolveTooDeep},
		{"CatchAll", testCatchAll},
		{"ResolveErrors", testResolveErrors},
		{"DKIMKeys", testDKIMKeys},
		{"DKIMKeysInvalid", testDKIMKeysInvalid},
		{"DKIMKeysDeletedWithDomain", testDKIMKeysDeletedWithDomain},
		{"Stores", testStores},
		{"PlaceEmptyRegistry", testPlaceEmptyRegistry},
		{"PlacementRules", testPlacementRules},
		{"PlacementRuleInvalid", testPlacementRuleInvalid},
		{"PlaceLeastLoaded", testPlaceLeastLoaded},
		{"PlaceExplicit", testPlaceExplicit},
		{"AddStoreMovesNoOne", testAddStoreMovesNoOne},
		{"PlaceConcurrent", testPlaceConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// setup adds the domains and then accounts (with password "pw-"+address).
func setup(t *testing.T, d directory.Directory, domains []string, accounts ...string) {
	t.Helper()
	ctx := t.Context()
	for _, dom := range domains {
		must(t, d.AddDomain(ctx, dom))
	}
	for _, a := range accounts {
		if _, err := d.AddAccount(ctx, a, "pw-"+a, ""); err != nil {
			t.Fatal(err)
		}
	}
}

// resolve returns the sorted addresses Resolve gives, failing on error:
// the accounts' addresses, and each forward as "forward:ADDRESS".
func resolve(t *testing.T, d directory.Directory, addr string) []string {
	t.Helper()
	res, err := d.Resolve(t.Context(), addr)
	if err != nil {
		t.Fatalf("Resolve(%q): %v", addr, err)
	}
	var out []string
	for _, a := range res.Accounts {
		out = append(out, a.Address)
	}
	for _, f := range res.Forward {
		out = append(out, "forward:"+f)
	}
	if sorted := slices.Sorted(slices.Values(out)); !slices.Equal(sorted, slices.Compact(slices.Clone(sorted))) {
		t.Errorf("Resolve(%q) = %v: duplicates", addr, out)
	}
	slices.Sort(out)
	return out
}

func wantResolve(t *testing.T, d directory.Directory, addr string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := resolve(t, d, addr); !slices.Equal(got, want) {
		t.Errorf("Resolve(%q) = %v, want %v", addr, got, want)
	}
}

func domainNames(t *testing.T, ctx context.Context, d directory.Directory) []string {
	t.Helper()
	ds, err := d.Domains(ctx)
	must(t, err)
	var out []string
	for _, x := range ds {
		out = append(out, x.Name)
	}
	return out
}
