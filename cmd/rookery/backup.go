package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/rookery-mail/rookery/internal/backup"
	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/datadir"
)

// runBackup copies the node's engines to a new directory; the node may be
// running.
func runBackup(ctx context.Context, inv invocation) error {
	cfg, err := inv.config()
	if err != nil {
		return err
	}
	if err := embeddedOnly(cfg); err != nil {
		return err
	}
	if err := backup.Backup(ctx, cfg.DataDir, inv.args[0]); err != nil {
		return err
	}
	fmt.Printf("backed up %s to %s\n", cfg.DataDir, inv.args[0])
	return nil
}

// runRestore copies a backup into the configured data directory, which
// must hold no mail data and no running node.
func runRestore(ctx context.Context, inv invocation) error {
	cfg, err := inv.config()
	if err != nil {
		return err
	}
	if err := embeddedOnly(cfg); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return err
	}
	lock, err := datadir.Acquire(cfg.DataDir)
	if err != nil {
		return err
	}
	defer lock.Release()
	if err := backup.Restore(ctx, inv.args[0], cfg.DataDir); err != nil {
		return err
	}
	fmt.Printf("restored %s into %s; start the node with: rookery serve\n", inv.args[0], cfg.DataDir)
	return nil
}

// embeddedOnly refuses backup and restore of a node whose data is not all
// under data_dir: a copy of the files would miss mail and look complete.
func embeddedOnly(cfg *config.Config) error {
	if cfg.Embedded() {
		return nil
	}
	return errors.New("backup and restore cover the embedded engines (SQLite and files under data_dir) only; " +
		"back up PostgreSQL with its own tools (pg_dump, base backups) and S3 buckets with versioning or replication")
}
