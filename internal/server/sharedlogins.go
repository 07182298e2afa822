package server

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/rookery-mail/rookery/internal/authlimit"
)

// sharedLogins tells the other nodes of a cluster the outcome of each
// password check, and applies theirs to this node's throttle, so a
// guesser spread over the front ends meets one budget per account
// (Limiter.Observe). Messages are best effort (NOTIFY, at most once): a
// lost one only makes the throttle a little more lenient. Outside a
// cluster it does nothing.
type sharedLogins struct {
	out chan string
	log *slog.Logger
}

// loginTopic is the cluster message topic; its payload is "F" (failed)
// or "S" (succeeded), the account and the client address, tab-separated.
const loginTopic = "login"

// newSharedLogins starts sending through broadcast until ctx ends.
func newSharedLogins(ctx context.Context, broadcast func(ctx context.Context, topic, payload string) error, log *slog.Logger) *sharedLogins {
	sl := &sharedLogins{out: make(chan string, 1024), log: log}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-sl.out:
				bctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				if err := broadcast(bctx, loginTopic, m); err != nil {
					sl.log.Warn("telling other nodes a login outcome failed", "err", err)
				}
				cancel()
			}
		}
	}()
	return sl
}

// tell queues an outcome for the other nodes without waiting; when the
// queue is full (the database is slow) the outcome is dropped.
func (sl *sharedLogins) tell(account string, addr netip.Addr, ok bool) {
	if sl == nil {
		return
	}
	kind := "F"
	if ok {
		kind = "S"
	}
	select {
	case sl.out <- kind + "\t" + account + "\t" + addr.String():
	default:
	}
}

// observeLogin applies another node's message to the limiter.
func observeLogin(l *authlimit.Limiter, payload string, log *slog.Logger) {
	parts := strings.Split(payload, "\t")
	if len(parts) != 3 || (parts[0] != "F" && parts[0] != "S") {
		log.Warn("login message not understood", "payload", payload)
		return
	}
	addr, err := netip.ParseAddr(parts[2])
	if err != nil {
		addr = netip.Addr{} // a login without an IP address
	}
	l.Observe(parts[1], addr, parts[0] == "S")
}
