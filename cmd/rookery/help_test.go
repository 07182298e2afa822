package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/admin"
)

// allCommands is every command name the dispatcher knows: its own table,
// the admin groups and every admin verb.
func allCommands() []string {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	names = append(names, adminGroups()...)
	for _, c := range admin.Commands() {
		names = append(names, c.Name)
	}
	return names
}

// TestHelpEverywhere runs every command with -h/--help (alone and after an
// argument) against a node that has a config but nothing else: each must
// print its usage, exit 0 at once, and leave the directory as it was (no
// server started, no database created).
func TestHelpEverywhere(t *testing.T) {
	n := newNode(t)
	before := listTree(t, n.dir)
	for _, name := range allCommands() {
		for _, tail := range [][]string{{"--help"}, {"-h"}, {"x@example.test", "--help"}} {
			args := append(strings.Fields(name), tail...)
			args = append(args, "--config", n.cfgPath)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			cmd := exec.CommandContext(ctx, binary, args...)
			cmd.Dir = n.dir // quickstart's default --dir is relative
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			cancel()
			if err != nil {
				t.Errorf("rookery %s: %v (a timeout means the command ran)\n%s", strings.Join(args, " "), err, stderr.String())
				continue
			}
			if !strings.Contains(string(out), "usage:") || !strings.Contains(string(out), "rookery "+name) {
				t.Errorf("rookery %s: no usage of %q on stdout:\n%s", strings.Join(args, " "), name, out)
			}
		}
	}
	if after := listTree(t, n.dir); !slices.Equal(before, after) {
		t.Errorf("help changed the data dir:\nbefore %v\nafter  %v", before, after)
	}
}

// TestCommandListsComplete checks that `rookery --help` and the README's
// command list name every command of the dispatcher table.
func TestCommandListsComplete(t *testing.T) {
	out, err := exec.Command(binary, "--help").Output()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range allCommands() {
		if !strings.Contains(string(out), "rookery "+name) {
			t.Errorf("rookery --help does not list %q", name)
		}
		if !strings.Contains(string(readme), "rookery "+name) {
			t.Errorf("README.md does not list %q", name)
		}
	}
}

func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		names = append(names, path+" "+info.ModTime().String())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}
