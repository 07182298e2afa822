package dirtest

import (
	"testing"

	"github.com/rookery-mail/rookery/internal/directory"
)

func testResolveAccount(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test"}, "alice@example.test", "bob@example.test")
	wantResolve(t, d, " Alice@EXAMPLE.test", "alice@example.test")
	res, err := d.Resolve(ctx, "alice@example.test")
	must(t, err)
	if len(res.Accounts) != 1 || res.Accounts[0].Mailstore == "" || len(res.Forward) != 0 {
		t.Fatalf("Resolve = %+v, want one account with its mailstore", res)
	}
	// An alias with an account's own address adds its targets (a copy).
	must(t, d.AddAlias(ctx, "alice@example.test", []string{"bob@example.test"}))
	wantResolve(t, d, "alice@example.test", "alice@example.test", "bob@example.test")
}

func testResolveAliasChain(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test", "other.test"}, "alice@example.test", "bob@example.test", "carol@other.test")
	must(t, d.AddAlias(ctx, "team@example.test", []string{"alice@example.test", "bob@example.test", "ext@external.test"}))
	must(t, d.AddAlias(ctx, "all@other.test", []string{"team@example.test", "carol@other.test", "alice@example.test"}))
	must(t, d.AddAlias(ctx, "top@example.test", []string{"all@other.test"}))
	// External targets are forwarded, however deep, each once.
	wantResolve(t, d, "team@example.test", "alice@example.test", "bob@example.test", "forward:ext@external.test")
	wantResolve(t, d, "ALL@other.test", "alice@example.test", "bob@example.test", "carol@other.test", "forward:ext@external.test")
	wantResolve(t, d, "top@example.test", "alice@example.test", "bob@example.test", "carol@other.test", "forward:ext@external.test")

	// Only external or dangling targets: forwarded, nothing local.
	must(t, d.AddAlias(ctx, "fwd@example.test", []string{"Someone@External.test", "gone@example.test"}))
	wantResolve(t, d, "fwd@example.test", "forward:someone@external.test")
	// Only dangling targets: nobody receives it.
	must(t, d.AddAlias(ctx, "dead@example.test", []string{"gone@example.test"}))
	_, err := d.Resolve(ctx, "dead@example.test")
	wantErr(t, "Resolve alias with only dangling targets", err, directory.ErrNotFound)
	// An address of another system is not resolved, even if an alias
	// points there.
	_, err = d.Resolve(ctx, "ext@external.test")
	wantErr(t, "Resolve external address", err, directory.ErrNotFound)
}

func testResolveLoop(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test"}, "alice@example.test")
	must(t, d.AddAlias(ctx, "a@example.test", []string{"b@example.test"}))
	must(t, d.AddAlias(ctx, "b@example.test", []string{"c@example.test", "alice@example.test"}))
	must(t, d.AddAlias(ctx, "c@example.test", []string{"a@example.test"}))
	wantResolve(t, d, "a@example.test", "alice@example.test")
	wantResolve(t, d, "c@example.test", "alice@example.test")

	must(t, d.AddAlias(ctx, "x@example.test", []string{"y@example.test"}))
	must(t, d.AddAlias(ctx, "y@example.test", []string{"x@example.test"}))
	_, err := d.Resolve(ctx, "x@example.test")
	wantErr(t, "Resolve pure loop", err, directory.ErrNotFound)
}

func testResolveTooDeep(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test"}, "alice@example.test")
	// A chain of MaxAliasDepth aliases resolves; one more level is refused.
	names := []string{"alice@example.test"}
	for i := range directory.MaxAliasDepth + 1 {
		name := string(rune('a'+i)) + "-hop@example.test"
		must(t, d.AddAlias(ctx, name, []string{names[len(names)-1]}))
		names = append(names, name)
	}
	wantResolve(t, d, names[len(names)-2], "alice@example.test")
	if _, err := d.Resolve(ctx, names[len(names)-1]); err == nil || errorsIs(err, directory.ErrNotFound) {
		t.Fatalf("Resolve of a chain deeper than %d: %v, want a non-NotFound error", directory.MaxAliasDepth, err)
	}
}

func testCatchAll(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test", "other.test"}, "alice@example.test", "postmaster@example.test", "bob@example.test")
	must(t, d.AddAlias(ctx, "@example.test", []string{"postmaster@example.test"}))
	must(t, d.AddAlias(ctx, "sales@example.test", []string{"bob@example.test"}))
	wantResolve(t, d, "alice@example.test", "alice@example.test") // exact account beats catch-all
	wantResolve(t, d, "sales@example.test", "bob@example.test")   // exact alias beats catch-all
	wantResolve(t, d, "whoever@example.test", "postmaster@example.test")
	// A dangling alias target in a domain with a catch-all lands there too.
	must(t, d.AddAlias(ctx, "fwd@other.test", []string{"gone@example.test"}))
	wantResolve(t, d, "fwd@other.test", "postmaster@example.test")
	_, err := d.Resolve(ctx, "whoever@other.test")
	wantErr(t, "Resolve without catch-all", err, directory.ErrNotFound)
	must(t, d.DeleteAlias(ctx, "@example.test", ""))
	_, err = d.Resolve(ctx, "whoever@example.test")
	wantErr(t, "Resolve after catch-all deleted", err, directory.ErrNotFound)
}

func testResolveErrors(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test"}, "alice@example.test")
	for _, addr := range []string{"alice@unknown.test", "nobody@example.test", "", "not an address", "@example.test"} {
		_, err := d.Resolve(ctx, addr)
		wantErr(t, "Resolve "+quote(addr), err, directory.ErrNotFound)
	}
	must2(t)(d.Resolve(ctx, "alice@example.test"))
	must(t, d.DeleteAccount(ctx, "alice@example.test"))
	_, err := d.Resolve(ctx, "alice@example.test")
	wantErr(t, "Resolve deleted account", err, directory.ErrNotFound)
}
