package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/rookery-mail/rookery/internal/testsvc"
)

// twoStores is config for two embedded mailstores, a and b.
const twoStores = `
[[mailstores]]
name = "a"
[[mailstores]]
name = "b"
`

// TestStorePlacement drives placement through the binary on both
// directory engines: stores registered with `store add`, accounts placed
// by load and by rule, shown by `user list`, and names the config does
// not list refused.
func TestStorePlacement(t *testing.T) {
	for _, c := range []struct {
		name  string
		extra func(t *testing.T) string
	}{
		{"sqlite", func(*testing.T) string { return twoStores }},
		{"postgres", func(t *testing.T) string {
			return fmt.Sprintf("[directory]\nengine = \"postgres\"\ndsn = %q\n", testsvc.Postgres(t)) + twoStores
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := newNodeWith(t, c.extra(t))
			n.cli("", "domain", "add", "example.test")
			n.cli("", "store", "add", "a")
			n.cli("", "store", "add", "b")
			for _, u := range []string{"alice", "bob", "carol"} {
				n.cli("pw-"+u+"-123\n", "user", "add", u+"@example.test", "--password-stdin")
			}
			if out := n.cli("", "store", "rule", "add", "--pattern", "^z", "b"); out != "added placement rule 1 b * ^z\n" {
				t.Errorf("store rule add: %q", out)
			}
			n.cli("", "store", "set", "b", "--accepting=false")
			n.cli("pw-zed-12345\n", "user", "add", "zed@example.test", "--password-stdin")
			n.cli("pw-dan-12345\n", "user", "add", "dan@example.test", "--password-stdin")
			wantOut(t, n.cli("", "user", "list"), `
alice@example.test a
bob@example.test b
carol@example.test a
dan@example.test a
zed@example.test b`)
			wantOut(t, n.cli("", "store", "list"), "a accepting 3\nb closed 2")
			wantOut(t, n.cli("", "store", "rule", "list"), "1 b * ^z")
			n.cli("", "store", "rule", "delete", "1")
			wantOut(t, n.cli("", "store", "rule", "list"), "")

			for _, args := range [][]string{
				{"store", "add", "c"},
				{"user", "add", "x@example.test", "--mailstore", "c"},
			} {
				cmd := exec.Command(binary, append(args, "--config", n.cfgPath)...)
				out, err := cmd.CombinedOutput()
				if err == nil || !strings.Contains(string(out), `mailstore "c" is not configured`) {
					t.Errorf("rookery %v: %v\n%s\nwant a refusal of the unconfigured store", args, err, out)
				}
			}
		})
	}
}

func wantOut(t *testing.T, got, want string) {
	t.Helper()
	want = strings.TrimSpace(want)
	if want != "" {
		want += "\n"
	}
	if got != want {
		t.Errorf("output\n%s\nwant\n%s", got, want)
	}
}
