package dirtest

import (
	"slices"
	"testing"

	"github.com/rookery-mail/rookery/internal/directory"
)

func testAccounts(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test", "other.test"})
	a, err := d.AddAccount(ctx, " Alice@Example.TEST ", "secret", "")
	must(t, err)
	if a.Address != "alice@example.test" || a.Mailstore == "" {
		t.Fatalf("AddAccount = %+v, want address alice@example.test and a default mailstore", a)
	}
	if _, err := d.AddAccount(ctx, "ALICE@example.test", "x", ""); !errorsIs(err, directory.ErrExists) {
		t.Fatalf("AddAccount duplicate: %v, want ErrExists", err)
	}
	b, err := d.AddAccount(ctx, "bob@other.test", "secret", "store2")
	must(t, err)
	if b.Mailstore != "store2" {
		t.Fatalf("AddAccount mailstore = %q, want store2", b.Mailstore)
	}
	_, err = d.AddAccount(ctx, "carol@example.test", "", "")
	wantErr(t, "AddAccount empty password", err, directory.ErrInvalid)
	must2(t)(d.AddAccount(ctx, "carol@example.test", "pw", ""))

	got, err := d.Account(ctx, "BOB@other.test")
	must(t, err)
	if got != b {
		t.Fatalf("Account = %+v, want %+v", got, b)
	}
	_, err = d.Account(ctx, "nobody@example.test")
	wantErr(t, "Account unknown", err, directory.ErrNotFound)

	wantList := func(domain string, want ...string) {
		t.Helper()
		as, err := d.Accounts(ctx, domain)
		must(t, err)
		var addrs []string
		for _, a := range as {
			addrs = append(addrs, a.Address)
		}
		if !slices.Equal(addrs, want) {
			t.Errorf("Accounts(%q) = %v, want %v", domain, addrs, want)
		}
	}
	wantList("", "alice@example.test", "bob@other.test", "carol@example.test")
	wantList("Example.test", "alice@example.test", "carol@example.test")
	_, err = d.Accounts(ctx, "unknown.test")
	wantErr(t, "Accounts of unknown domain", err, directory.ErrNotFound)

	must(t, d.DeleteAccount(ctx, "Alice@example.test"))
	wantErr(t, "DeleteAccount again", d.DeleteAccount(ctx, "alice@example.test"), directory.ErrNotFound)
	wantList("example.test", "carol@example.test")
}

func testAccountNeedsDomain(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	_, err := d.AddAccount(ctx, "alice@example.test", "pw", "")
	wantErr(t, "AddAccount without domain", err, directory.ErrNotFound)
	wantErr(t, "AddAlias without domain", d.AddAlias(ctx, "a@example.test", []string{"b@x.test"}), directory.ErrNotFound)
	wantErr(t, "AddAlias catch-all without domain", d.AddAlias(ctx, "@example.test", []string{"b@x.test"}), directory.ErrNotFound)
}

func testInvalidAddresses(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test"})
	for _, bad := range []string{"", "alice", "@example.test", "alice@", "a@b@example.test", "al ice@example.test",
		"al\x00ice@example.test", "alice@exa mple.test", "a\tb@example.test"} {
		_, err := d.AddAccount(ctx, bad, "pw", "")
		wantErr(t, "AddAccount "+quote(bad), err, directory.ErrInvalid)
	}
	wantErr(t, "AddAlias bad target", d.AddAlias(ctx, "a@example.test", []string{"not an address"}), directory.ErrInvalid)
	wantErr(t, "AddAlias catch-all target", d.AddAlias(ctx, "a@example.test", []string{"@example.test"}), directory.ErrInvalid)
	wantErr(t, "AddAlias no targets", d.AddAlias(ctx, "a@example.test", nil), directory.ErrInvalid)
	wantErr(t, "AddAlias to itself", d.AddAlias(ctx, "a@example.test", []string{"A@example.test"}), directory.ErrInvalid)
}

func testAuthenticate(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test"})
	must2(t)(d.AddAccount(ctx, "alice@example.test", "correct horse", "s1"))
	a, err := d.Authenticate(ctx, "Alice@Example.Test", "correct horse")
	must(t, err)
	if a.Address != "alice@example.test" || a.Mailstore != "s1" {
		t.Fatalf("Authenticate = %+v", a)
	}
	for _, c := range []struct{ addr, pw string }{
		{"alice@example.test", "Correct horse"},
		{"alice@example.test", ""},
		{"bob@example.test", "correct horse"},
		{"alice@unknown.test", "correct horse"},
		{"not an address", "correct horse"},
	} {
		_, err := d.Authenticate(ctx, c.addr, c.pw)
		wantErr(t, "Authenticate "+c.addr+" "+quote(c.pw), err, directory.ErrAuthFailed)
	}
}

func testSetPassword(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test"}, "alice@example.test")
	must(t, d.SetPassword(ctx, "ALICE@example.test", "new one"))
	_, err := d.Authenticate(ctx, "alice@example.test", "pw-alice@example.test")
	wantErr(t, "old password", err, directory.ErrAuthFailed)
	must2(t)(d.Authenticate(ctx, "alice@example.test", "new one"))
	wantErr(t, "SetPassword unknown", d.SetPassword(ctx, "bob@example.test", "x"), directory.ErrNotFound)
	wantErr(t, "SetPassword empty", d.SetPassword(ctx, "alice@example.test", ""), directory.ErrInvalid)
}
