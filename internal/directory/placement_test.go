package directory

import (
	"context"
	"errors"
	"testing"
)

// source is a PlacementSource from fixed lists; storesRead counts reads of
// the stores, which a matching rule must spare.
type source struct {
	rules      []PlacementRule
	stores     []Store
	storesRead int
}

func (s *source) PlacementRules(context.Context) ([]PlacementRule, error) { return s.rules, nil }
func (s *source) Stores(context.Context) ([]Store, error) {
	s.storesRead++
	return s.stores, nil
}

func TestPlace(t *testing.T) {
	rules := []PlacementRule{
		{ID: 1, Domain: "a.test", Pattern: "^[a-k]", Store: "r1"},
		{ID: 2, Pattern: "^z", Store: "r2"},
		{ID: 3, Pattern: "[", Store: "broken"}, // stored before a syntax change: skipped
		{ID: 4, Domain: "b.test", Store: "r4"},
	}
	stores := []Store{{"s1", true, 5}, {"s2", false, 0}, {"s3", true, 2}, {"s4", true, 2}}
	for _, c := range []struct {
		addr      string
		rules     []PlacementRule
		stores    []Store
		want      string
		err       error
		readStore bool
	}{
		{addr: "bob@a.test", rules: rules, stores: stores, want: "r1"},
		{addr: "bob@aa.test", rules: rules, stores: stores, want: "s3", readStore: true}, // domain is exact
		{addr: "zed@a.test", rules: rules, stores: stores, want: "r2"},
		{addr: "xa@a.test", rules: rules, stores: stores, want: "s3", readStore: true}, // pattern on the local part
		{addr: "ann@b.test", rules: rules, stores: stores, want: "r4"},
		{addr: "ann@c.test", stores: stores, want: "s3", readStore: true}, // s2 is emptier but closed; s3 before s4
		{addr: "ann@c.test", want: "fallback", readStore: true},
		{addr: "ann@c.test", stores: []Store{{"s1", false, 0}}, err: ErrNoStore, readStore: true},
	} {
		src := &source{rules: c.rules, stores: c.stores}
		got, err := Place(t.Context(), src, c.addr, "fallback")
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("Place(%s) = %q, %v; want %q, %v", c.addr, got, err, c.want, c.err)
		}
		if read := src.storesRead > 0; read != c.readStore {
			t.Errorf("Place(%s) read the stores: %v, want %v", c.addr, read, c.readStore)
		}
	}
}

func TestNormalizeRule(t *testing.T) {
	r, err := NormalizeRule(PlacementRule{Domain: " Example.TEST.", Pattern: "^[a-k]", Store: "s1"})
	if err != nil || r.Domain != "example.test" || r.Pattern != "^[a-k]" || r.Store != "s1" {
		t.Fatalf("NormalizeRule = %+v, %v", r, err)
	}
	for _, bad := range []PlacementRule{
		{Pattern: "(", Store: "s1"}, {Domain: "a b", Store: "s1"}, {Store: ""}, {Store: "S1"},
	} {
		if _, err := NormalizeRule(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("NormalizeRule(%+v): %v, want ErrInvalid", bad, err)
		}
	}
}
