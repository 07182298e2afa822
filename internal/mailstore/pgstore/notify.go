package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
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

// listener relays the store's channel to its hub until stopped.
type listener struct {
	stop context.CancelFunc
	done chan struct{}
	idle time.Duration // quiet time after which the connection is pinged
}

// Reconnection backoff of the listener: doubling from the first to the
// last, then staying there.
const (
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 5 * time.Second
)

// A listener that heard nothing for listenIdle pings its connection, so a
// connection that died without a word (a peer or a NAT that lost it) is
// replaced within listenIdle + listenPingTimeout, not when TCP keepalive
// gives up. A shorter idle time (tests) shortens the ping timeout to it.
const (
	listenIdle        = 30 * time.Second
	listenPingTimeout = 10 * time.Second
)

// startListener connects and LISTENs before returning, so a change
// committed after Open returns is never missed, then relays in the
// background.
func (s *Store) startListener(ctx context.Context, cfg *pgx.ConnConfig, idle time.Duration) error {
	// Named, so pg_stat_activity tells the listener from the pool.
	cfg = cfg.Copy()
	cfg.RuntimeParams["application_name"] = listenerAppName(s.schema)
	conn, err := s.listenConn(ctx, cfg)
	if err != nil {
		return err
	}
	lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.listener = &listener{stop: stop, done: make(chan struct{}), idle: idle}
	go s.relay(lctx, cfg, conn)
	return nil
}

// listenerAppName is the application_name of the store's listener
// connection.
func listenerAppName(schema string) string { return "rookery listen " + schema }

// close stops the listener and waits for its goroutine.
func (l *listener) close() {
	l.stop()
	<-l.done
}

func (s *Store) listenConn(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("listen: connect: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("listen: %w", err)
	}
	return conn, nil
}

// relay hands each notification to the hub. When the connection fails it
// reconnects with bounded backoff and then wakes every watcher: changes
// committed meanwhile were not relayed.
func (s *Store) relay(ctx context.Context, cfg *pgx.ConnConfig, conn *pgx.Conn) {
	defer close(s.listener.done)
	for {
		err := s.relayConn(ctx, conn)
		conn.Close(context.WithoutCancel(ctx))
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("change notifications interrupted, reconnecting", "err", err)
		for wait := listenBackoffMin; ; wait = min(2*wait, listenBackoffMax) {
			if !sleep(ctx, wait) {
				return
			}
			if conn, err = s.listenConn(ctx, cfg); err == nil {
				break
			}
			s.log.Warn("change notifications: reconnect failed", "err", err, "retry_in", min(2*wait, listenBackoffMax))
		}
		s.log.Info("change notifications resumed")
		s.hub.NotifyAll()
	}
}

// relayConn relays notifications from conn until it fails or ctx ends.
// pgx leaves a connection usable after a wait that timed out.
func (s *Store) relayConn(ctx context.Context, conn *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, s.listener.idle)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil && ctx.Err() == nil && pgconn.Timeout(err) {
			pctx, cancel := context.WithTimeout(ctx, min(listenPingTimeout, s.listener.idle))
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("ping after %v without notifications: %w", s.listener.idle, err)
			}
			continue
		}
		if err != nil {
			return err
		}
		if s.ownPIDs.has(n.PID) {
			continue
		}
		k, ok := parsePayload(n.Payload)
		if !ok {
			s.log.Warn("change notification not understood", "payload", n.Payload)
			continue
		}
		s.hub.Notify(k.user, k.id)
	}
}

// sleep waits d and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

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
