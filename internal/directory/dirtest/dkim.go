package dirtest

import (
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/directory"
)

// fakePEM is enough for the directory, which stores keys without parsing them.
const fakePEM = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"

func dkimKey(domain, selector, algo string, created time.Time) directory.DKIMKey {
	return directory.DKIMKey{Domain: domain, Selector: selector, Algorithm: algo, PrivateKeyPEM: fakePEM, Created: created}
}

func testDKIMKeys(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test", "other.test"})
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	keys, err := d.DKIMKeys(ctx, "example.test")
	must(t, err)
	if len(keys) != 0 {
		t.Fatalf("DKIMKeys of a new domain = %v, want none", keys)
	}
	old := dkimKey("example.test", "rk2026r", directory.DKIMRSA, t0)
	// Created keeps sub-second precision (engines: at least microseconds), and a non-UTC zone is stored as UTC.
	newer := dkimKey("Example.TEST", "RK2027e", directory.DKIMEd25519, t0.Add(365*24*time.Hour+time.Millisecond).In(time.FixedZone("X", 3600)))
	must(t, d.AddDKIMKey(ctx, old))
	must(t, d.AddDKIMKey(ctx, newer))
	must(t, d.AddDKIMKey(ctx, dkimKey("other.test", "rk2026r", directory.DKIMRSA, t0)))
	wantErr(t, "AddDKIMKey duplicate selector", d.AddDKIMKey(ctx, dkimKey("example.test", "rk2026r", directory.DKIMEd25519, t0)), directory.ErrExists)
	wantErr(t, "AddDKIMKey unknown domain", d.AddDKIMKey(ctx, dkimKey("unknown.test", "s", directory.DKIMRSA, t0)), directory.ErrNotFound)

	got, err := d.DKIMKeys(ctx, "EXAMPLE.test")
	must(t, err)
	newer.Domain, newer.Selector, newer.Created = "example.test", "rk2027e", newer.Created.UTC()
	want := []directory.DKIMKey{newer, old}
	if !dkimKeysEqual(got, want) {
		t.Fatalf("DKIMKeys = %+v,\nwant %+v (newest first)", got, want)
	}
	_, err = d.DKIMKeys(ctx, "unknown.test")
	wantErr(t, "DKIMKeys of unknown domain", err, directory.ErrNotFound)
}

func testDKIMKeysInvalid(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test"})
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for name, k := range map[string]directory.DKIMKey{
		"empty selector":    dkimKey("example.test", "", directory.DKIMRSA, t0),
		"selector with dot": dkimKey("example.test", "a.b", directory.DKIMRSA, t0),
		"selector with _":   dkimKey("example.test", "a_b", directory.DKIMRSA, t0),
		"algorithm":         dkimKey("example.test", "s", "rsa-sha1", t0),
		"no created time":   dkimKey("example.test", "s", directory.DKIMRSA, time.Time{}),
		"bad domain":        dkimKey("exa mple.test", "s", directory.DKIMRSA, t0),
		"not PEM":           {Domain: "example.test", Selector: "s", Algorithm: directory.DKIMRSA, PrivateKeyPEM: "secret", Created: t0},
	} {
		wantErr(t, "AddDKIMKey "+name, d.AddDKIMKey(ctx, k), directory.ErrInvalid)
	}
}

// A domain's keys go with it: re-adding the domain must not resurrect them.
func testDKIMKeysDeletedWithDomain(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test"})
	must(t, d.AddDKIMKey(ctx, dkimKey("example.test", "s1", directory.DKIMRSA, time.Now())))
	must(t, d.DeleteDomain(ctx, "example.test"))
	must(t, d.AddDomain(ctx, "example.test"))
	keys, err := d.DKIMKeys(ctx, "example.test")
	must(t, err)
	if len(keys) != 0 {
		t.Fatalf("DKIMKeys after delete and re-add = %v, want none", keys)
	}
	must(t, d.AddDKIMKey(ctx, dkimKey("example.test", "s1", directory.DKIMRSA, time.Now())))
}

// dkimKeysEqual compares times with Equal: engines may return another
// *time.Location for UTC.
func dkimKeysEqual(a, b []directory.DKIMKey) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if !x.Created.Equal(y.Created) {
			return false
		}
		x.Created, y.Created = time.Time{}, time.Time{}
		if x != y {
			return false
		}
	}
	return true
}
