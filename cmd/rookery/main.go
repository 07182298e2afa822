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
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rookery-mail/rookery/internal/admin"
	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/queue"
	"github.com/rookery-mail/rookery/internal/queue/sqlitequeue"
	"github.com/rookery-mail/rookery/internal/quickstart"
	"github.com/rookery-mail/rookery/internal/server"
)

const defaultConfig = "./rookery-data/rookery.toml"

const usage = `usage: rookery COMMAND [ARGS] [--config FILE]

  quickstart [--dir DIR] [--bind ADDR] [--port-offset N]   create/reuse a demo node and serve it
  serve                                                     run the node described by the config
  domain add|list|del|dns|dkim ...                          manage domains (dns: records to publish)
  user add|del|list|passwd ...                              manage accounts
  alias add|del|list ...                                    manage aliases
  queue list|show|retry|delete|hold|release ...             inspect and manage the mail queue
  check                                                     verify the mailstores' integrity

--config defaults to ` + defaultConfig + "\n"

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, admin.ErrUsage) {
			os.Exit(2) // admin already printed the usage
		}
		fmt.Fprintln(os.Stderr, "rookery:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Print(usage)
		return nil
	}
	cfgPath, rest, err := takeConfigFlag(args[1:])
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "serve":
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return err
		}
		return serve(ctx, cfg)
	case "quickstart":
		return runQuickstart(ctx, rest)
	case "domain", "user", "alias", "queue":
		open := func(ctx context.Context) (directory.Directory, error) {
			cfg, err := config.Load(cfgPath)
			if err != nil {
				return nil, err
			}
			return server.OpenDirectory(ctx, cfg)
		}
		// The server may have the queue open too: WAL and busy_timeout
		// (in sqlitequeue's DSN) let both work.
		openQueue := func(ctx context.Context) (queue.Store, error) {
			cfg, err := config.Load(cfgPath)
			if err != nil {
				return nil, err
			}
			dir := filepath.Join(cfg.DataDir, "queue")
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, err
			}
			return sqlitequeue.Open(ctx, filepath.Join(dir, "queue.db"))
		}
		// Likewise a mailstore (user quota), with the server running.
		openStore := func(ctx context.Context, name string) (mailstore.Store, error) {
			cfg, err := config.Load(cfgPath)
			if err != nil {
				return nil, err
			}
			return server.OpenStore(ctx, cfg, name, newLogger(cfg))
		}
		return admin.Run(ctx, append([]string{args[0]}, rest...), admin.Env{
			Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Directory: open, Queue: openQueue, Mailstore: openStore,
			Postmaster: func() string {
				cfg, err := config.Load(cfgPath)
				if err != nil {
					return "" // the opener has reported it
				}
				return cfg.Postmaster
			}})
	case "check":
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return err
		}
		return check(ctx, cfg, os.Stdout)
	default:
		return fmt.Errorf("unknown command %q\n%s", args[0], usage)
	}
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
// down gracefully.
func serve(ctx context.Context, cfg *config.Config) error {
	log := newLogger(cfg)
	srv, err := server.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	log.Info("rookery started", "hostname", cfg.Hostname, "data_dir", cfg.DataDir)
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

func runQuickstart(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	dir := fs.String("dir", "./rookery-data", "data directory")
	bind := fs.String("bind", "127.0.0.1", "address to listen on")
	offset := fs.Int("port-offset", 0, "added to every port")
	if err := fs.Parse(args); err != nil {
		return err
	}
	res, err := quickstart.Prepare(ctx, quickstart.Options{Dir: *dir, Bind: *bind, PortOffset: *offset})
	if err != nil {
		return err
	}
	res.Print(os.Stdout)
	return serve(ctx, res.Config)
}

// check runs every mailstore's integrity check; violations are an error.
func check(ctx context.Context, cfg *config.Config, out io.Writer) error {
	store, err := server.OpenStore(ctx, cfg, server.DefaultMailstore, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer store.Close()
	problems, err := store.Check(ctx)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(out, p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("mailstore %s: %d problem(s)", server.DefaultMailstore, len(problems))
	}
	fmt.Fprintf(out, "mailstore %s: ok\n", server.DefaultMailstore)
	return nil
}
