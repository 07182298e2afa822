package dirtest

import (
	"reflect"
	"testing"

	"github.com/rookery-mail/rookery/internal/directory"
)

func testAliases(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test", "other.test"}, "alice@example.test", "bob@example.test")
	must(t, d.AddAlias(ctx, "Sales@Example.test", []string{"BOB@example.test", "alice@example.test"}))
	must(t, d.AddAlias(ctx, "sales@example.test", []string{"carol@external.test"}))
	wantErr(t, "AddAlias duplicate pair", d.AddAlias(ctx, "sales@example.test", []string{"alice@example.test"}), directory.ErrExists)
	must(t, d.AddAlias(ctx, "@other.test", []string{"alice@example.test"}))
	must(t, d.AddAlias(ctx, "info@other.test", []string{"sales@example.test"}))

	want := []directory.Alias{
		{Address: "sales@example.test", Targets: []string{"alice@example.test", "bob@example.test", "carol@external.test"}},
	}
	wantAliases(t, d, "example.test", want)
	wantAliases(t, d, "", []directory.Alias{
		{Address: "@other.test", Targets: []string{"alice@example.test"}},
		{Address: "info@other.test", Targets: []string{"sales@example.test"}},
		want[0],
	})
	_, err := d.Aliases(ctx, "unknown.test")
	wantErr(t, "Aliases of unknown domain", err, directory.ErrNotFound)

	must(t, d.DeleteAlias(ctx, "sales@example.test", "Bob@Example.test"))
	wantErr(t, "DeleteAlias target again", d.DeleteAlias(ctx, "sales@example.test", "bob@example.test"), directory.ErrNotFound)
	wantAliases(t, d, "example.test", []directory.Alias{
		{Address: "sales@example.test", Targets: []string{"alice@example.test", "carol@external.test"}},
	})
	must(t, d.DeleteAlias(ctx, "SALES@example.test", ""))
	wantErr(t, "DeleteAlias again", d.DeleteAlias(ctx, "sales@example.test", ""), directory.ErrNotFound)
	wantAliases(t, d, "example.test", nil)
	must(t, d.DeleteAlias(ctx, "@other.test", "alice@example.test"))
	wantAliases(t, d, "other.test", []directory.Alias{{Address: "info@other.test", Targets: []string{"sales@example.test"}}})
}

func wantAliases(t *testing.T, d directory.Directory, domain string, want []directory.Alias) {
	t.Helper()
	got, err := d.Aliases(t.Context(), domain)
	must(t, err)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Aliases(%q) = %v, want %v", domain, got, want)
	}
}
