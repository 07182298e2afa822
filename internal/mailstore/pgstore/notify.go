package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rookery-mail/rookery/internal/pglisten"
)

// Changes reach other nodes' hubs through PostgreSQL LISTEN/NOTIFY (issue
// #10, "notifications across nodes"): every write transaction NOTIFYs the
// mailboxes it changed on the store's channel, which PostgreSQL delivers
// only if and when it commits, so a listener is never woken for a change
// it cannot see yet. Each Store opened with a Hub keeps one connection
// LISTENing and relays what arrives to its hub, except what its own pool's
// connections sent: write already told the hub, and a second wake would
// make every watching session re-read the mailbox for nothing. A store
// without a Hub (admin commands) still NOTIFYs, so its changes wake
// sessions on the serving node.

// notifyChannel is the store's channel name. Channel names are
// identifiers: pg_notify refuses and LISTEN truncates names over 63
// bytes, so a long schema name is replaced by its hash.
func notifyChannel(schema string) string {
	const prefix = "rookery_"
	if len(prefix)+len(schema) <= maxIdentBytes {
		return prefix + schema
	}
	sum := sha256.Sum256([]byte(schema))
	return prefix + hex.EncodeToString(sum[:16])
}

// notifyPayload and parsePayload are the channel's message: the user and
// the mailbox id, tab-separated (a user name never holds a tab; the id is
// split at the last one regardless).
func notifyPayload(k watchKey) string { return k.user + "\t" + strconv.FormatInt(k.id, 10) }

func parsePayload(p string) (watchKey, bool) {
	i := strings.LastIndexByte(p, '\t')
	if i < 0 {
		return watchKey{}, false
	}
	id, err := strconv.ParseInt(p[i+1:], 10, 64)
	if err != nil {
		return watchKey{}, false
	}
	return watchKey{user: p[:i], id: id}, true
}

// queueNotify queues the pg_notify of every mailbox the transaction
// changed, each once.
func (w *writeTx) queueNotify(batch *pgx.Batch, channel string) {
	keys := w.changed()
	if len(keys) == 0 {
		return
	}
	payloads := make([]string, len(keys))
	for i, k := range keys {
		payloads[i] = notifyPayload(k)
	}
	batch.Queue(`SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`, channel, payloads)
}

// startListener LISTENs on the store's channel before returning, so a
// change committed after Open returns is never missed, then relays to the
// hub what other processes sent; after a reconnection it wakes every
// watcher, since changes committed meanwhile were not relayed.
func (s *Store) startListener(ctx context.Context, cfg *pgx.ConnConfig, idle time.Duration) error {
	l, err := pglisten.Start(ctx, cfg, pglisten.Options{
		Channel: s.channel, AppName: listenerAppName(s.schema), Idle: idle, Logger: s.log,
		OnNotify: func(n *pgconn.Notification) {
			if s.ownPIDs.has(n.PID) {
				return
			}
			k, ok := parsePayload(n.Payload)
			if !ok {
				s.log.Warn("change notification not understood", "payload", n.Payload)
				return
			}
			s.hub.Notify(k.user, k.id)
		},
		OnResume: s.hub.NotifyAll,
	})
	if err != nil {
		return err
	}
	s.listener = l
	return nil
}

// listenerAppName is the application_name of the store's listener
// connection.
func listenerAppName(schema string) string { return "rookery listen " + schema }

// pidSet is the server process ids of the pool's open connections: a
// notification carries its sender's. A pid is removed when its connection
// closes, before the server can give it to another; a notification still
// in flight from an earlier holder of a pid would be dropped, and the
// sessions' periodic re-check covers that.
type pidSet struct {
	mu   sync.Mutex
	pids map[uint32]struct{}
}

// track makes the pool record its connections' pids in p.
func (p *pidSet) track(cfg *pgxpool.Config) {
	p.pids = map[uint32]struct{}{}
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		p.mu.Lock()
		p.pids[c.PgConn().PID()] = struct{}{}
		p.mu.Unlock()
		return nil
	}
	cfg.BeforeClose = func(c *pgx.Conn) {
		p.mu.Lock()
		delete(p.pids, c.PgConn().PID())
		p.mu.Unlock()
	}
}

func (p *pidSet) has(pid uint32) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.pids[pid]
	return ok
}
