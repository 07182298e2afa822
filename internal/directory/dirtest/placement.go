package dirtest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/rookery-mail/rookery/internal/directory"
)

// wantStores checks the registry, each store as "name:accepting:accounts".
func wantStores(t *testing.T, d directory.Directory, want ...string) {
	t.Helper()
	stores, err := d.Stores(t.Context())
	must(t, err)
	var got []string
	for _, s := range stores {
		got = append(got, fmt.Sprintf("%s:%v:%d", s.Name, s.AcceptsNewUsers, s.Accounts))
	}
	if !slices.Equal(got, want) {
		t.Errorf("Stores = %v, want %v", got, want)
	}
}

// wantPlaced adds an account without a mailstore and checks where it went,
// in AddAccount's result and in the stored account.
func wantPlaced(t *testing.T, d directory.Directory, addr, store string) {
	t.Helper()
	a, err := d.AddAccount(t.Context(), addr, "pw", "")
	must(t, err)
	if a.Mailstore != store {
		t.Errorf("AddAccount(%s) placed on %q, want %q", addr, a.Mailstore, store)
	}
	if got, err := d.Account(t.Context(), addr); err != nil || got.Mailstore != store {
		t.Errorf("Account(%s) = %+v, %v; want mailstore %q", addr, got, err, store)
	}
}

func addStores(t *testing.T, d directory.Directory, names ...string) {
	t.Helper()
	for _, n := range names {
		must(t, d.AddStore(t.Context(), n))
	}
}

func testStores(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	wantStores(t, d)
	must(t, d.EnsureStore(ctx, "s1"))
	must(t, d.EnsureStore(ctx, "s1"))
	must(t, d.AddStore(ctx, "s2"))
	wantErr(t, "AddStore again", d.AddStore(ctx, "s2"), directory.ErrExists)
	wantErr(t, "AddStore of an ensured store", d.AddStore(ctx, "s1"), directory.ErrExists)
	for _, bad := range []string{"", "Upper", "a b", "-x", "x/y"} {
		wantErr(t, "AddStore "+quote(bad), d.AddStore(ctx, bad), directory.ErrInvalid)
		wantErr(t, "EnsureStore "+quote(bad), d.EnsureStore(ctx, bad), directory.ErrInvalid)
	}
	wantStores(t, d, "s1:true:0", "s2:true:0")

	must(t, d.SetStoreAccepting(ctx, "s2", false))
	must(t, d.SetStoreAccepting(ctx, "s2", false))
	must(t, d.EnsureStore(ctx, "s2")) // changes nothing, the flag included
	wantStores(t, d, "s1:true:0", "s2:false:0")
	wantErr(t, "SetStoreAccepting unknown", d.SetStoreAccepting(ctx, "s9", true), directory.ErrNotFound)

	setup(t, d, []string{"example.test"})
	must2(t)(d.AddAccount(ctx, "a@example.test", "pw", "s2"))
	must2(t)(d.AddAccount(ctx, "b@example.test", "pw", "s2"))
	must2(t)(d.AddAccount(ctx, "c@example.test", "pw", "s1"))
	wantStores(t, d, "s1:true:1", "s2:false:2")
	must(t, d.DeleteAccount(ctx, "a@example.test"))
	must(t, d.SetStoreAccepting(ctx, "s2", true))
	wantStores(t, d, "s1:true:1", "s2:true:1")
}

// With no store registered, an account goes to the engine's default
// mailstore, which is then registered: a single node works unconfigured.
func testPlaceEmptyRegistry(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test"})
	a, err := d.AddAccount(ctx, "alice@example.test", "pw", "")
	must(t, err)
	if a.Mailstore == "" {
		t.Fatal("AddAccount with an empty registry placed the account nowhere")
	}
	wantStores(t, d, a.Mailstore+":true:1")
	wantPlaced(t, d, "bob@example.test", a.Mailstore)
}

// Rules apply in ID order; a rule's domain must equal the address's and
// its pattern match the local part (not the whole address); empty fields
// match anything.
func testPlacementRules(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test", "other.test", "third.test"})
	addStores(t, d, "s1", "s2", "s3", "s4")
	var ids []int64
	for _, r := range []directory.PlacementRule{
		{Domain: "Example.TEST", Pattern: "^[a-k]", Store: "s1"},
		{Domain: "example.test", Store: "s2"},
		{Pattern: "^z", Store: "s3"},
		{Pattern: "example", Store: "s4"},
		{Domain: "third.test", Store: "s4"},
	} {
		got, err := d.AddPlacementRule(ctx, r)
		must(t, err)
		if len(ids) > 0 && got.ID <= ids[len(ids)-1] {
			t.Errorf("rule IDs %v then %d: not increasing", ids, got.ID)
		}
		ids = append(ids, got.ID)
	}
	rules, err := d.PlacementRules(ctx)
	must(t, err)
	want := []directory.PlacementRule{
		{ID: ids[0], Domain: "example.test", Pattern: "^[a-k]", Store: "s1"},
		{ID: ids[1], Domain: "example.test", Pattern: "", Store: "s2"},
		{ID: ids[2], Domain: "", Pattern: "^z", Store: "s3"},
		{ID: ids[3], Domain: "", Pattern: "example", Store: "s4"},
		{ID: ids[4], Domain: "third.test", Pattern: "", Store: "s4"},
	}
	if !slices.Equal(rules, want) {
		t.Fatalf("PlacementRules = %+v, want %+v", rules, want)
	}

	wantPlaced(t, d, "alice@example.test", "s1") // rule 1
	wantPlaced(t, d, "zed@example.test", "s2")   // rule 2 before rule 3
	wantPlaced(t, d, "zed@other.test", "s3")     // rule 3, any domain
	wantPlaced(t, d, "zed@third.test", "s3")     // rule 3 before rule 5
	wantPlaced(t, d, "bob@third.test", "s4")     // rule 5
	// No rule ("example" is not in the local part): s1, s2 and s4 hold
	// one account each, s3 two; the first by name of the least loaded.
	wantPlaced(t, d, "bob@other.test", "s1")

	must(t, d.DeletePlacementRule(ctx, ids[0]))
	wantErr(t, "DeletePlacementRule again", d.DeletePlacementRule(ctx, ids[0]), directory.ErrNotFound)
	wantPlaced(t, d, "anna@example.test", "s2")
	if a, err := d.Account(ctx, "alice@example.test"); err != nil || a.Mailstore != "s1" {
		t.Errorf("after deleting its rule Account(alice) = %+v, %v; want it still on s1", a, err)
	}
	// A new rule goes last, never into the deleted rule's place.
	r, err := d.AddPlacementRule(ctx, directory.PlacementRule{Store: "s3"})
	must(t, err)
	if r.ID <= ids[len(ids)-1] {
		t.Errorf("new rule's ID %d is not above the last one's %d", r.ID, ids[len(ids)-1])
	}
	wantPlaced(t, d, "carl@other.test", "s3") // the catch-all rule
	wantPlaced(t, d, "kim@example.test", "s2")
}

func testPlacementRuleInvalid(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	addStores(t, d, "s1")
	for _, c := range []struct {
		name string
		rule directory.PlacementRule
		err  error
	}{
		{"bad regexp", directory.PlacementRule{Pattern: "([a-", Store: "s1"}, directory.ErrInvalid},
		{"bad domain", directory.PlacementRule{Domain: "bad_domain", Store: "s1"}, directory.ErrInvalid},
		{"no store", directory.PlacementRule{Pattern: "^a"}, directory.ErrInvalid},
		{"unknown store", directory.PlacementRule{Pattern: "^a", Store: "s9"}, directory.ErrNotFound},
	} {
		_, err := d.AddPlacementRule(ctx, c.rule)
		wantErr(t, "AddPlacementRule with "+c.name, err, c.err)
	}
	rules, err := d.PlacementRules(ctx)
	must(t, err)
	if len(rules) != 0 {
		t.Errorf("PlacementRules after refused adds = %+v", rules)
	}
	wantErr(t, "DeletePlacementRule unknown", d.DeletePlacementRule(ctx, 12345), directory.ErrNotFound)
}

// Without a rule, the accepting store with the fewest accounts; stores
// closed to new users are skipped, and with all closed there is none.
func testPlaceLeastLoaded(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test"})
	addStores(t, d, "a", "b", "c")
	for _, x := range []struct{ addr, store string }{
		{"u1@example.test", "a"}, {"u2@example.test", "a"}, {"u3@example.test", "b"},
	} {
		must2(t)(d.AddAccount(ctx, x.addr, "pw", x.store))
	}
	must(t, d.SetStoreAccepting(ctx, "c", false))
	wantPlaced(t, d, "new1@example.test", "b") // c has fewer, but is closed
	wantPlaced(t, d, "new2@example.test", "a") // a and b tie at 2: first by name
	wantPlaced(t, d, "new3@example.test", "b")
	must(t, d.SetStoreAccepting(ctx, "c", true))
	wantPlaced(t, d, "new4@example.test", "c")
	for _, s := range []string{"a", "b", "c"} {
		must(t, d.SetStoreAccepting(ctx, s, false))
	}
	_, err := d.AddAccount(ctx, "new5@example.test", "pw", "")
	wantErr(t, "AddAccount with every store closed", err, directory.ErrNoStore)
	_, err = d.Account(ctx, "new5@example.test")
	wantErr(t, "Account after a refused placement", err, directory.ErrNotFound)
	wantStores(t, d, "a:false:3", "b:false:3", "c:false:1")
}

// An explicit mailstore wins over rules and closed stores, and a store not
// yet registered is registered by it.
func testPlaceExplicit(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test"})
	addStores(t, d, "s1", "s2")
	must2(t)(d.AddPlacementRule(ctx, directory.PlacementRule{Store: "s1"}))
	must(t, d.SetStoreAccepting(ctx, "s2", false))
	for _, x := range []struct{ addr, store string }{
		{"a@example.test", "s2"}, {"b@example.test", "s3"},
	} {
		a, err := d.AddAccount(ctx, x.addr, "pw", x.store)
		if err != nil || a.Mailstore != x.store {
			t.Errorf("AddAccount(%s, %s) = %+v, %v", x.addr, x.store, a, err)
		}
	}
	_, err := d.AddAccount(ctx, "c@example.test", "pw", "Bad Name")
	wantErr(t, "AddAccount on an invalid mailstore name", err, directory.ErrInvalid)
	wantPlaced(t, d, "d@example.test", "s1")
	wantStores(t, d, "s1:true:1", "s2:false:1", "s3:true:1")
}

// Adding a store moves no one: accounts keep the store they were placed
// on, and only new accounts go to the new, emptier store.
func testAddStoreMovesNoOne(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test"})
	addStores(t, d, "s1")
	for i := range 3 {
		wantPlaced(t, d, fmt.Sprintf("u%d@example.test", i), "s1")
	}
	addStores(t, d, "s2")
	must(t, d.EnsureStore(ctx, "s3"))
	accts, err := d.Accounts(ctx, "")
	must(t, err)
	for _, a := range accts {
		if a.Mailstore != "s1" {
			t.Errorf("after adding stores %s is on %s, want s1", a.Address, a.Mailstore)
		}
	}
	wantPlaced(t, d, "new1@example.test", "s2")
	wantPlaced(t, d, "new2@example.test", "s3")
	wantStores(t, d, "s1:true:3", "s2:true:1", "s3:true:1")
}

// Concurrent placements all succeed, on whatever stores they chose.
func testPlaceConcurrent(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	setup(t, d, []string{"example.test"})
	addStores(t, d, "s1", "s2")
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := d.AddAccount(ctx, fmt.Sprintf("u%d@example.test", i), "pw", "")
			errs <- err
		}()
	}
	for range n {
		must(t, <-errs)
	}
	stores, err := d.Stores(ctx)
	must(t, err)
	total := 0
	for _, s := range stores {
		total += s.Accounts
	}
	if total != n || len(stores) != 2 {
		t.Errorf("Stores after %d concurrent adds = %+v", n, stores)
	}
}
