// Command rookery is the whole mail system in one binary: `serve` runs the
// roles of a node, `quickstart` a demo node, and the other subcommands
// administer a node's directory, mailstores and queue.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/rookery-mail/rookery/internal/admin"
	"github.com/rookery-mail/rookery/internal/cluster"
	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/engine"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/queue"
	"github.com/rookery-mail/rookery/internal/quickstart"
	"github.com/rookery-mail/rookery/internal/server"
)

const defaultConfig = "./rookery-data/rookery.toml"

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, admin.ErrUsage) {
			os.Exit(2) // the usage was printed already
		}
		fmt.Fprintln(os.Stderr, "rookery:", err)
		os.Exit(1)
	}
}

// run dispatches one command line through the commands table and the
// admin groups.
func run(args []string) error {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Print(overview())
		return nil
	}
	cfgPath, rest, err := takeConfigFlag(args[1:])
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if slices.Contains(adminGroups(), args[0]) {
		// admin answers help itself (lazily opened engines stay closed),
		// with the verb's own flags.
		return runAdmin(ctx, cfgPath, append([]string{args[0]}, rest...))
	}
	cmd, ok := findCommand(args[0])
	if !ok {
		fmt.Fprint(os.Stderr, overview())
		return fmt.Errorf("unknown command %q: %w", args[0], admin.ErrUsage)
	}
	if wantsHelp(rest) {
		cmd.usage(os.Stdout)
		return nil
	}
	fs := cmd.flagSet()
	if err := fs.Parse(rest); err != nil {
		cmd.usage(os.Stderr)
		return fmt.Errorf("%s: %v: %w", cmd.name, err, admin.ErrUsage)
	}
	if fs.NArg() != cmd.nargs {
		cmd.usage(os.Stderr)
		return fmt.Errorf("%s: wrong number of arguments: %w", cmd.name, admin.ErrUsage)
	}
	return cmd.run(ctx, invocation{cfgPath: cfgPath, fs: fs, args: fs.Args()})
}

// runAdmin runs an admin command with openers of the configured engines.
func runAdmin(ctx context.Context, cfgPath string, args []string) error {
	open := func(ctx context.Context) (directory.Directory, error) {
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return nil, err
		}
		return engine.Directory(ctx, cfg)
	}
	// The server may have the queue open too: WAL and busy_timeout
	// (in sqlitequeue's DSN) let both work.
	openQueue := func(ctx context.Context) (queue.Store, error) {
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return nil, err
		}
		return engine.Queue(ctx, cfg)
	}
	// Likewise a mailstore (user quota), with the server running.
	openStore := func(ctx context.Context, name string) (mailstore.Store, error) {
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return nil, err
		}
		return engine.Mailstore(ctx, cfg, name, engine.StoreOptions{Logger: newLogger(cfg)})
	}
	var clusterStatus func(ctx context.Context) (cluster.Status, error)
	if cfg, err := config.Load(cfgPath); err == nil && cfg.Clustered() {
		clusterStatus = func(ctx context.Context) (cluster.Status, error) {
			return cluster.ReadStatus(ctx, cfg.Cluster.DSN, cfg.Cluster.Schema, cfg.Cluster.LeaseTTL.Duration)
		}
	}
	return admin.Run(ctx, args, admin.Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Directory: open, Queue: openQueue, Mailstore: openStore,
		Cluster: clusterStatus,
		Mailstores: func() []string {
			cfg, err := config.Load(cfgPath)
			if err != nil {
				return nil // the opener reports it
			}
			return cfg.StoreNames()
		},
		Postmaster: func() string {
			cfg, err := config.Load(cfgPath)
			if err != nil {
				return "" // the opener has reported it
			}
			return cfg.Postmaster
		}})
}

// takeConfigFlag removes "--config FILE" (or --config=FILE) from args.
func takeConfigFlag(args []string) (string, []string, error) {
	path := defaultConfig
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--config" || a == "-config":
			if i+1 >= len(args) {
				return "", nil, errors.New("--config needs a file name")
			}
			path = args[i+1]
			i++
		case strings.HasPrefix(a, "--config="):
			path = strings.TrimPrefix(a, "--config=")
		default:
			rest = append(rest, a)
		}
	}
	return path, rest, nil
}

func newLogger(cfg *config.Config) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// serve runs a node until ctx is cancelled (SIGINT/SIGTERM), then shuts
// down gracefully. SIGHUP reloads the TLS certificate.
func serve(ctx context.Context, cfg *config.Config) error {
	// From the start: a SIGHUP's default action would end the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	log := newLogger(cfg)
	srv, err := server.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	log.Info("rookery started", "hostname", cfg.Hostname, "data_dir", cfg.DataDir)
	waitReloading(ctx, hup, srv, log)
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

func quickstartFlags(fs *flag.FlagSet) {
	fs.String("dir", "./rookery-data", "`DIR` to keep the demo node in")
	fs.String("bind", "127.0.0.1", "IP `ADDR` to listen on")
	fs.Int("port-offset", 0, "add `N` to every port")
}

// runQuickstart passes on only the listener flags given: on an existing
// directory they rewrite its config, absent ones keep it.
// waitReloading waits for ctx to end, reloading the TLS certificate on
// each SIGHUP (after a renewal); a failed reload keeps the old one.
func waitReloading(ctx context.Context, hup <-chan os.Signal, srv *server.Server, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := srv.ReloadTLS(); err != nil {
				log.Error("SIGHUP: certificate not reloaded, the old one stays in use", "err", err)
			}
		}
	}
}

func runQuickstart(ctx context.Context, inv invocation) error {
	opts := quickstart.Options{Dir: inv.fs.Lookup("dir").Value.String()}
	inv.fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "bind":
			opts.Bind = f.Value.String()
		case "port-offset":
			n := f.Value.(flag.Getter).Get().(int)
			opts.PortOffset = &n
		}
	})
	res, err := quickstart.Prepare(ctx, opts)
	if err != nil {
		return err
	}
	res.Print(os.Stdout)
	return serve(ctx, res.Config)
}

// check runs every mailstore's integrity check; violations are an error.
func check(ctx context.Context, cfg *config.Config, out io.Writer) error {
	var failed []string
	for _, name := range cfg.StoreNames() {
		if err := checkStore(ctx, cfg, name, out); err != nil {
			fmt.Fprintf(out, "mailstore %s: %v\n", name, err)
			failed = append(failed, name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("check failed for mailstore(s) %s", strings.Join(failed, ", "))
	}
	return nil
}

// checkStore checks one mailstore and prints its problems.
func checkStore(ctx context.Context, cfg *config.Config, name string, out io.Writer) error {
	store, err := engine.Mailstore(ctx, cfg, name, engine.StoreOptions{})
	if err != nil {
		return err
	}
	defer store.Close()
	problems, err := store.Check(ctx)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintf(out, "mailstore %s: %s\n", name, p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d problem(s)", len(problems))
	}
	fmt.Fprintf(out, "mailstore %s: ok\n", name)
	return nil
}
