package cluster

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rookery-mail/rookery/internal/pglisten"
)

// Nodes tell each other small things that need no durability (a failed
// login, for the throttles of the other front ends) over PostgreSQL
// NOTIFY on the schema's channel: delivered at most once, to the nodes
// listening at that moment. A node does not hear its own messages.

// channel is the cluster's NOTIFY channel.
func (r *Registry) channel() string { return "rookery_" + r.opts.Schema }

// Broadcast sends topic and payload to every other node. It does not
// wait for anyone; a node that is down or reconnecting misses it.
func (r *Registry) Broadcast(ctx context.Context, topic, payload string) error {
	msg := r.opts.Node + "\t" + topic + "\t" + payload
	if _, err := r.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, r.channel(), msg); err != nil {
		return fmt.Errorf("cluster: broadcast %s: %w", topic, err)
	}
	return nil
}

// listen starts relaying other nodes' messages to OnMessage.
func (r *Registry) listen(ctx context.Context, cfg *pgx.ConnConfig) error {
	if r.opts.OnMessage == nil {
		return nil
	}
	l, err := pglisten.Start(ctx, cfg, pglisten.Options{
		Channel: r.channel(), AppName: "rookery cluster " + r.opts.Node, Logger: r.log,
		OnNotify: func(n *pgconn.Notification) {
			node, rest, ok := strings.Cut(n.Payload, "\t")
			topic, payload, ok2 := strings.Cut(rest, "\t")
			if !ok || !ok2 || node == r.opts.Node {
				return
			}
			r.opts.OnMessage(topic, payload)
		},
	})
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	r.listener = l
	return nil
}
