package imap

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// TestListDeepHierarchyLinear: LIST's attribute pass is linear in the
// names' total length. A store made before the name bounds may hold a
// chain 20,000 levels deep (issue #8); the per-ancestor split and join it
// replaced was cubic in depth and spun for hours on such a chain.
func TestListDeepHierarchyLinear(t *testing.T) {
	const depth = 5000
	boxes := make([]mailstore.MailboxInfo, 0, depth+1)
	name := "dd"
	for range depth {
		boxes = append(boxes, mailstore.MailboxInfo{Name: name})
		name += "/x"
	}
	boxes = append(boxes, mailstore.MailboxInfo{Name: "a/b/c"}) // parents a and a/b missing
	done := make(chan []listEntry, 1)
	start := time.Now()
	go func() { done <- listEntries(boxes, `\NonExistent`) }()
	var entries []listEntry
	select {
	case entries = <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("listEntries of a %d-deep chain still running after 20s", depth)
	}
	t.Logf("%d-deep chain: %v", depth, time.Since(start))
	if len(entries) != depth+3 {
		t.Fatalf("%d entries, want %d", len(entries), depth+3)
	}
	byName := map[string]listEntry{}
	for _, e := range entries {
		byName[e.name] = e
	}
	for _, tc := range []struct {
		name, attrs string
	}{
		{"a", `\NonExistent \HasChildren`},
		{"a/b", `\NonExistent \HasChildren`},
		{"a/b/c", `\HasNoChildren`},
		{"dd", `\HasChildren`},
		{"dd" + strings.Repeat("/x", depth-2), `\HasChildren`},
		{"dd" + strings.Repeat("/x", depth-1), `\HasNoChildren`},
	} {
		e, ok := byName[tc.name]
		if got := strings.Join(e.attrs, " "); !ok || got != tc.attrs {
			t.Errorf("%.20s…: attrs %q, want %q", tc.name, got, tc.attrs)
		}
	}
}

// TestListManyDeepChains: LIST "" "*" over many chains at the depth
// bound, created through the store, answers every mailbox promptly.
func TestListManyDeepChains(t *testing.T) {
	env := startServer(t)
	if err := env.store.EnsureAccount(t.Context(), "alice"); err != nil {
		t.Fatal(err)
	}
	const chains = 40
	level := strings.Repeat("l", 14) // 64 levels of 15 bytes: about 1 KB names
	for i := range chains {
		name := fmt.Sprintf("c%013d", i) + strings.Repeat("/"+level, mailstore.MaxNameLevels-1)
		if _, err := env.store.CreateMailbox(t.Context(), "alice", name, ""); err != nil {
			t.Fatal(err)
		}
	}
	c := dialRaw(t, env.addr)
	c.login("alice")
	start := time.Now()
	c.send("L1 LIST \"\" \"*\"\r\n")
	lines := c.readUntilTagged("L1")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("LIST took %v", d)
	}
	want := chains*mailstore.MaxNameLevels + len(mailstore.DefaultMailboxes)
	if len(lines)-1 != want || !strings.HasPrefix(lines[len(lines)-1], "L1 OK") {
		t.Fatalf("%d LIST lines, want %d; last %q", len(lines)-1, want, lines[len(lines)-1])
	}
}

// BenchmarkListEntriesDeep: the attribute pass over 100 chains at the
// depth bound with names of about 1 KB.
func BenchmarkListEntriesDeep(b *testing.B) {
	level := strings.Repeat("l", 14)
	var boxes []mailstore.MailboxInfo
	for i := range 100 {
		name := fmt.Sprintf("c%013d", i)
		for range mailstore.MaxNameLevels {
			boxes = append(boxes, mailstore.MailboxInfo{Name: name})
			name += "/" + level
		}
	}
	b.ResetTimer()
	for b.Loop() {
		listEntries(boxes, `\NonExistent`)
	}
}
