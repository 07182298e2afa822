package dirtest

import (
	"slices"
	"testing"

	"github.com/rookery-mail/rookery/internal/directory"
)

func testDomains(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	if got := domainNames(t, ctx, d); len(got) != 0 {
		t.Fatalf("new directory has domains %v", got)
	}
	must(t, d.AddDomain(ctx, "b.example"))
	must(t, d.AddDomain(ctx, " A.Example. ")) // normalized: trimmed, lower case, no root dot
	wantErr(t, "AddDomain duplicate", d.AddDomain(ctx, "B.EXAMPLE"), directory.ErrExists)
	for _, bad := range []string{"", "a..b", "-a.example", "a b.example", "a@b.example", "ex_ample.test"} {
		wantErr(t, "AddDomain "+bad, d.AddDomain(ctx, bad), directory.ErrInvalid)
	}
	if got, want := domainNames(t, ctx, d), []string{"a.example", "b.example"}; !slices.Equal(got, want) {
		t.Fatalf("Domains = %v, want %v", got, want)
	}
	for name, want := range map[string]bool{"a.example": true, "A.EXAMPLE": true, "c.example": false, "": false} {
		got, err := d.IsLocalDomain(ctx, name)
		must(t, err)
		if got != want {
			t.Errorf("IsLocalDomain(%q) = %v, want %v", name, got, want)
		}
	}
	must(t, d.DeleteDomain(ctx, "A.example"))
	wantErr(t, "DeleteDomain again", d.DeleteDomain(ctx, "a.example"), directory.ErrNotFound)
	if got, want := domainNames(t, ctx, d), []string{"b.example"}; !slices.Equal(got, want) {
		t.Fatalf("Domains = %v, want %v", got, want)
	}
}

func testDomainDeleteRefused(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test"}, "alice@example.test")
	wantErr(t, "DeleteDomain with account", d.DeleteDomain(ctx, "example.test"), directory.ErrExists)
	must(t, d.DeleteAccount(ctx, "alice@example.test"))
	must(t, d.AddAlias(ctx, "@example.test", []string{"bob@elsewhere.test"}))
	wantErr(t, "DeleteDomain with alias", d.DeleteDomain(ctx, "example.test"), directory.ErrExists)
	must(t, d.DeleteAlias(ctx, "@example.test", ""))
	must(t, d.DeleteDomain(ctx, "example.test"))
}
