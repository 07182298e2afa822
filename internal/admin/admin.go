// Package admin implements the administration commands of the rookery
// binary (domain, user, alias, store, queue) as a library: cmd/rookery strips its
// global flags, supplies an Env with openers for the configured engines and
// calls Run.
package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/rookery-mail/rookery/internal/cluster"
	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/queue"
)

// Opener opens the configured directory. Run calls it only once the
// arguments are valid, so a usage error never touches the database.
type Opener func(ctx context.Context) (directory.Directory, error)

// Env is what a command may use: its streams and lazy openers of the
// node's engines. Run closes what it opened.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Directory      Opener
	// Queue opens the node's queue; the server may be running on it at the
	// same time (the engine must tolerate a second process).
	Queue func(ctx context.Context) (queue.Store, error)
	// Mailstore opens the named mailstore, which the server may have open
	// too (user quota).
	Mailstore func(ctx context.Context, name string) (mailstore.Store, error)
	// Mailstores lists the configured mailstores' names; "user add"
	// refuses others, since no node could serve such an account. Nil
	// accepts any name.
	Mailstores func() []string
	// Postmaster returns the configured postmaster account ("" when none
	// is set), for the warning of "domain add"; nil skips the warning.
	Postmaster func() string
	// Now is the clock for ages in queue listings; nil is time.Now.
	Now func() time.Time
	// Cluster reads the cluster's nodes and leases; nil when the config
	// is not a cluster's.
	Cluster func(ctx context.Context) (cluster.Status, error)
}

// ErrUsage marks errors in the command line itself (unknown command or
// flag, wrong number of arguments); main may exit with status 2 for them.
var ErrUsage = errors.New("usage error")

// Run executes one admin command, args being e.g. ["user", "add",
// "alice@example.test", "--password-stdin"]. Results go to stdout, one item
// per line. On a usage error Run writes the usage text to stderr and returns
// an error wrapping ErrUsage; any other error is returned for the caller to
// print, having written nothing to stderr.
func Run(ctx context.Context, args []string, env Env) error {
	if env.Now == nil {
		env.Now = time.Now
	}
	c := &cli{stdin: env.Stdin, stdout: env.Stdout, stderr: env.Stderr, env: env}
	err := c.run(ctx, args)
	if c.dir != nil {
		err = errors.Join(err, c.dir.Close())
	}
	if c.queue != nil {
		err = errors.Join(err, c.queue.Close())
	}
	for _, s := range c.stores {
		err = errors.Join(err, s.Close())
	}
	return err
}

// cli is the state of one Run: its streams and the engines, opened lazily.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	env            Env
	dir            directory.Directory
	queue          queue.Store
	stores         map[string]mailstore.Store // by name
}

// commands lists every command, in the order of the usage text.
var commands = []command{
	domainAdd, domainList, domainDel, domainDNS, domainDKIM,
	userAdd, userDel, userList, userPasswd, userQuota,
	aliasAdd, aliasDel, aliasList,
	storeAdd, storeList, storeSet, storeRuleAdd, storeRuleList, storeRuleDelete,
	queueList, queueShow, queueRetry, queueDelete, queueHold, queueRelease,
	clusterStatus,
}

// command describes one subcommand: its usage line, how many positional
// arguments it takes, its flags and its body.
type command struct {
	name    string // "group verb"
	usage   string // after "rookery group verb"
	doc     string // one line for the overview
	minArgs int
	maxArgs int // -1: no limit
	flags   func(*flagSet)
	run     func(ctx context.Context, c *cli, f *flagSet) error
}

func (cmd command) synopsis() string {
	return strings.TrimSpace("rookery " + cmd.name + " " + cmd.usage)
}

// findCommand finds the command whose name's words begin args: "group
// verb", or "group subgroup verb" ("store rule add").
func findCommand(args []string) (command, bool) {
	for _, cmd := range commands {
		words := strings.Fields(cmd.name)
		if len(args) >= len(words) && slices.Equal(args[:len(words)], words) {
			return cmd, true
		}
	}
	return command{}, false
}

const usageHeader = `usage: rookery COMMAND [ARGS]

`

func usageText() string {
	var b strings.Builder
	b.WriteString(usageHeader)
	for _, cmd := range commands {
		fmt.Fprintf(&b, "  %s\n        %s\n", cmd.synopsis(), cmd.doc)
	}
	return b.String()
}

func (c *cli) run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usageText())
		return usageErr("no command given")
	}
	if len(args) == 1 && isHelp(args[0]) || args[0] == "help" {
		fmt.Fprint(c.stdout, usageText())
		return nil
	}
	if len(args) < 2 || isHelp(args[1]) {
		return c.usageGroup(args[0], args)
	}
	cmd, ok := findCommand(args)
	if !ok {
		return c.usageGroup(args[0], args)
	}
	f := newFlagSet(cmd.name)
	if cmd.flags != nil {
		cmd.flags(f)
	}
	if err := f.parse(args[len(strings.Fields(cmd.name)):]); err != nil {
		if errors.Is(err, errHelp) {
			fmt.Fprintf(c.stdout, "usage: %s\n%s", cmd.synopsis(), f.defaults())
			return nil
		}
		return c.usageError(cmd, f, err.Error())
	}
	n := len(f.args)
	if n < cmd.minArgs || cmd.maxArgs >= 0 && n > cmd.maxArgs {
		return c.usageError(cmd, f, "wrong number of arguments")
	}
	return cmd.run(ctx, c, f)
}

func isHelp(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

// usageGroup reports an unknown or missing verb, listing the group's
// commands (or all, for an unknown group); a help flag after the group
// ("GROUP -h", "GROUP WHATEVER --help") makes it help, on stdout.
func (c *cli) usageGroup(group string, args []string) error {
	var lines []string
	for _, cmd := range commands {
		if strings.HasPrefix(cmd.name, group+" ") {
			lines = append(lines, "  "+cmd.synopsis()+"\n")
		}
	}
	if len(lines) == 0 {
		fmt.Fprint(c.stderr, usageText())
		return usageErr(fmt.Sprintf("unknown command %q", group))
	}
	help := slices.ContainsFunc(args[1:], isHelp)
	w := c.stderr
	if help {
		w = c.stdout
	}
	fmt.Fprintf(w, "usage:\n%s", strings.Join(lines, ""))
	switch {
	case help:
		return nil
	case len(args) < 2:
		return usageErr(group + ": missing subcommand")
	}
	return usageErr(fmt.Sprintf("unknown command %q", group+" "+args[1]))
}

func (c *cli) usageError(cmd command, f *flagSet, msg string) error {
	fmt.Fprintf(c.stderr, "usage: %s\n%s", cmd.synopsis(), f.defaults())
	return usageErr(cmd.name + ": " + msg)
}

// usageErr is an error in the command line; it matches ErrUsage.
type usageErr string

func (e usageErr) Error() string        { return string(e) }
func (e usageErr) Is(target error) bool { return target == ErrUsage }

// open returns the directory, opening it on first use.
func (c *cli) open(ctx context.Context) (directory.Directory, error) {
	if c.dir == nil {
		if c.env.Directory == nil {
			return nil, errors.New("open directory: no directory configured")
		}
		d, err := c.env.Directory(ctx)
		if err != nil {
			return nil, fmt.Errorf("open directory: %w", err)
		}
		c.dir = d
	}
	return c.dir, nil
}

// openQueue returns the queue, opening it on first use.
func (c *cli) openQueue(ctx context.Context) (queue.Store, error) {
	if c.queue == nil {
		if c.env.Queue == nil {
			return nil, errors.New("open queue: no queue configured")
		}
		q, err := c.env.Queue(ctx)
		if err != nil {
			return nil, fmt.Errorf("open queue: %w", err)
		}
		c.queue = q
	}
	return c.queue, nil
}

func (c *cli) println(a ...any) {
	fmt.Fprintln(c.stdout, a...)
}

// Info describes one admin command for the binary's overview and help.
type Info struct {
	Name     string // "group verb"
	Synopsis string // "rookery group verb ARGS"
	Doc      string // one line
}

// Commands lists every admin command, in the order of the usage text.
func Commands() []Info {
	infos := make([]Info, len(commands))
	for i, cmd := range commands {
		infos[i] = Info{Name: cmd.name, Synopsis: cmd.synopsis(), Doc: cmd.doc}
	}
	return infos
}
