package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rookery-mail/rookery/internal/admin"
	"github.com/rookery-mail/rookery/internal/config"
)

// command is one subcommand of the binary. The dispatcher (run) answers
// "-h"/"--help" anywhere in a command's arguments with its usage before
// the command can do anything, so help never starts, opens or creates.
type command struct {
	name  string
	args  string // synopsis after the name and flags
	doc   string // one line for the overview
	flags func(fs *flag.FlagSet)
	nargs int // positional arguments
	// noConfig: the command takes no --config (quickstart writes its own)
	noConfig bool
	run      func(ctx context.Context, inv invocation) error
}

// invocation is a parsed command line: the --config path (which every
// command accepts), the command's flags and its positional arguments.
type invocation struct {
	cfgPath string
	fs      *flag.FlagSet
	args    []string
}

// config loads the node's config.
func (inv invocation) config() (*config.Config, error) { return config.Load(inv.cfgPath) }

// commands is the dispatcher table: the binary's own commands; the admin
// groups (domain, user, alias, queue) follow from admin.Commands.
var commands = []command{
	{name: "quickstart", doc: "create or reuse a demo node in --dir and serve it",
		flags: quickstartFlags, noConfig: true, run: runQuickstart},
	{name: "serve", doc: "run the node described by the config (SIGHUP reloads the TLS certificate)",
		run: func(ctx context.Context, inv invocation) error {
			cfg, err := inv.config()
			if err != nil {
				return err
			}
			return serve(ctx, cfg)
		}},
	{name: "check", doc: "verify the mailstores' integrity",
		run: func(ctx context.Context, inv invocation) error {
			cfg, err := inv.config()
			if err != nil {
				return err
			}
			return check(ctx, cfg, os.Stdout)
		}},
	{name: "backup", args: "DIR", nargs: 1, run: runBackup,
		doc: "copy the databases and mail to the new directory DIR, consistently, while the node runs"},
	{name: "restore", args: "DIR", nargs: 1, run: runRestore,
		doc: "restore a backup into the configured data directory, which holds no mail data yet (node stopped)"},
}

// adminGroups are the first words of the admin commands.
func adminGroups() []string {
	var groups []string
	for _, c := range admin.Commands() {
		g, _, _ := strings.Cut(c.Name, " ")
		if len(groups) == 0 || groups[len(groups)-1] != g {
			groups = append(groups, g)
		}
	}
	return groups
}

func findCommand(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// flagSet makes c's flag set, --config included.
func (c command) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run reports errors and usage once
	if !c.noConfig {
		fs.String("config", defaultConfig, "the node's config `FILE`")
	}
	if c.flags != nil {
		c.flags(fs)
	}
	return fs
}

func (c command) synopsis() string {
	s := "rookery " + c.name
	c.flagSet().VisitAll(func(f *flag.Flag) {
		if f.Name == "config" {
			return
		}
		name, _ := flag.UnquoteUsage(f)
		s += " [--" + f.Name
		if name != "" {
			s += " " + name
		}
		s += "]"
	})
	if c.args != "" {
		s += " " + c.args
	}
	return s
}

// usage writes c's synopsis and flags.
func (c command) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s\n\n%s\n\n", c.synopsis(), c.doc)
	fs := c.flagSet()
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// overview is `rookery --help`: every command, the admin ones included.
func overview() string {
	var b strings.Builder
	b.WriteString("usage: rookery COMMAND [ARGS] [--config FILE]\n\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %s\n        %s\n", c.synopsis(), c.doc)
	}
	for _, c := range admin.Commands() {
		fmt.Fprintf(&b, "  %s\n        %s\n", c.Synopsis, c.Doc)
	}
	fmt.Fprintf(&b, "\n--config defaults to %s; `rookery COMMAND --help` shows a command's flags.\n", defaultConfig)
	return b.String()
}

func isHelp(s string) bool { return s == "-h" || s == "-help" || s == "--help" || s == "help" }

// wantsHelp reports a help flag among args, before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a != "help" && isHelp(a) {
			return true
		}
	}
	return false
}
