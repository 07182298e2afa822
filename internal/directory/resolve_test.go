package directory

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// mapLookup is a Lookup over maps: the rules of Expand are tested here
// once; dirtest checks that each engine feeds them the same data.
type mapLookup struct {
	domains  []string
	accounts []string
	aliases  map[string][]string
}

func (m mapLookup) LookupAccount(_ context.Context, addr string) (Account, bool, error) {
	if slices.Contains(m.accounts, addr) {
		return Account{Address: addr, Mailstore: "default"}, true, nil
	}
	return Account{}, false, nil
}

func (m mapLookup) LookupAlias(_ context.Context, addr string) ([]string, bool, error) {
	t, ok := m.aliases[addr]
	return t, ok, nil
}

func (m mapLookup) IsLocalDomain(_ context.Context, d string) (bool, error) {
	return slices.Contains(m.domains, d), nil
}

// TestExpandPostmaster: postmaster@ and abuse@ of every local domain, and
// the bare "Postmaster" of RFC 5321 §4.1.1.3, reach the configured
// postmaster unless the domain has an account or alias of that name; they
// win over a catch-all.
func TestExpandPostmaster(t *testing.T) {
	l := mapLookup{
		domains:  []string{"example.test", "other.test", "own.test"},
		accounts: []string{"admin@example.test", "carol@other.test", "postmaster@own.test"},
		aliases:  map[string][]string{"@other.test": {"carol@other.test"}, "abuse@own.test": {"carol@other.test"}},
	}
	p := Policy{Postmaster: "Admin@Example.test"} // as written in the config
	for addr, want := range map[string]string{
		"Postmaster":              "admin@example.test",
		"postmaster@example.test": "admin@example.test",
		"ABUSE@example.test":      "admin@example.test",
		"postmaster@other.test":   "admin@example.test", // not the catch-all
		"abuse@other.test":        "admin@example.test",
		"someone@other.test":      "carol@other.test",
		"postmaster@own.test":     "postmaster@own.test", // the domain's own
		"abuse@own.test":          "carol@other.test",
	} {
		got, err := Expand(t.Context(), l, addr, p)
		if err != nil || len(got.Accounts) != 1 || got.Accounts[0].Address != want || len(got.Forward) != 0 {
			t.Errorf("Expand(%q) = %v, %v; want %s", addr, got, err, want)
		}
	}
	for _, addr := range []string{"postmaster@elsewhere.test", "webmaster@example.test"} {
		if got, err := Expand(t.Context(), l, addr, p); !errors.Is(err, ErrNotFound) {
			t.Errorf("Expand(%q) = %v, %v; want ErrNotFound", addr, got, err)
		}
	}
	// Without a configured postmaster they are ordinary addresses.
	for _, addr := range []string{"Postmaster", "postmaster@example.test"} {
		if got, err := Expand(t.Context(), l, addr, Policy{}); !errors.Is(err, ErrNotFound) {
			t.Errorf("Expand(%q) without postmaster = %v, %v; want ErrNotFound", addr, got, err)
		}
	}
}
