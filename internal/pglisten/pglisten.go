// Package pglisten keeps one PostgreSQL connection LISTENing on a channel
// and hands every notification to a callback: the mailstores' cross-node
// change notifications and the cluster's messages between nodes share it.
// The connection is made, and LISTEN done, before Start returns, so
// nothing sent after that is missed while the connection holds; when it
// fails, the listener reconnects with bounded backoff and calls OnResume,
// since whatever was sent meanwhile is lost. A connection that hears
// nothing for Idle is pinged, so one that died without a word (a peer or
// NAT that lost it) is replaced within Idle plus a ping timeout rather
// than when TCP keepalive gives up.
package pglisten

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Reconnection backoff: doubling from the first to the last, then staying.
const (
	backoffMin = 100 * time.Millisecond
	backoffMax = 5 * time.Second
)

// DefaultIdle is the quiet time after which the connection is pinged;
// pingTimeout bounds the ping (a shorter Idle, in tests, shortens it too).
const (
	DefaultIdle = 30 * time.Second
	pingTimeout = 10 * time.Second
)

// Options configure Start.
type Options struct {
	Channel string // the channel, as pg_notify names it
	// AppName is the connection's application_name, so pg_stat_activity
	// tells the listener from pools.
	AppName  string
	Idle     time.Duration // 0: DefaultIdle
	Logger   *slog.Logger
	OnNotify func(n *pgconn.Notification)
	// OnResume runs after a reconnection: notifications sent while the
	// connection was down were lost.
	OnResume func()
}

// Listener relays a channel until Close.
type Listener struct {
	opts Options
	cfg  *pgx.ConnConfig
	stop context.CancelFunc
	done chan struct{}
}

// Start connects with cfg and LISTENs, then relays in the background.
func Start(ctx context.Context, cfg *pgx.ConnConfig, opts Options) (*Listener, error) {
	if opts.Idle <= 0 {
		opts.Idle = DefaultIdle
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.OnResume == nil {
		opts.OnResume = func() {}
	}
	cfg = cfg.Copy()
	if opts.AppName != "" {
		cfg.RuntimeParams["application_name"] = opts.AppName
	}
	l := &Listener{opts: opts, cfg: cfg, done: make(chan struct{})}
	conn, err := l.connect(ctx)
	if err != nil {
		return nil, err
	}
	lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l.stop = stop
	go l.relay(lctx, conn)
	return l, nil
}

// Close stops the listener and waits for its goroutine.
func (l *Listener) Close() {
	l.stop()
	<-l.done
}

func (l *Listener) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return nil, fmt.Errorf("listen: connect: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.opts.Channel}.Sanitize()); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("listen: %w", err)
	}
	return conn, nil
}

// relay hands on notifications; when the connection fails it reconnects
// with bounded backoff and then calls OnResume.
func (l *Listener) relay(ctx context.Context, conn *pgx.Conn) {
	defer close(l.done)
	log := l.opts.Logger.With("channel", l.opts.Channel)
	for {
		err := l.relayConn(ctx, conn)
		conn.Close(context.WithoutCancel(ctx))
		if ctx.Err() != nil {
			return
		}
		log.Warn("notifications interrupted, reconnecting", "err", err)
		for wait := backoffMin; ; wait = min(2*wait, backoffMax) {
			if !sleep(ctx, wait) {
				return
			}
			if conn, err = l.connect(ctx); err == nil {
				break
			}
			log.Warn("notifications: reconnect failed", "err", err, "retry_in", min(2*wait, backoffMax))
		}
		log.Info("notifications resumed")
		l.opts.OnResume()
	}
}

// relayConn relays notifications from conn until it fails or ctx ends.
// pgx leaves a connection usable after a wait that timed out.
func (l *Listener) relayConn(ctx context.Context, conn *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, l.opts.Idle)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil && ctx.Err() == nil && pgconn.Timeout(err) {
			pctx, cancel := context.WithTimeout(ctx, min(pingTimeout, l.opts.Idle))
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("ping after %v without notifications: %w", l.opts.Idle, err)
			}
			continue
		}
		if err != nil {
			return err
		}
		l.opts.OnNotify(n)
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
