package admin

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rookery-mail/rookery/internal/queue"
)

// The queue commands act on the node's queue database, which the server
// may have open at the same time; they take effect at the runner's next
// poll (a few seconds), as postqueue/postsuper do through the spool.

var queueList = command{
	name: "queue list", maxArgs: 0,
	doc: "list queued messages: ID AGE SIZE <FROM> RCPT(STATUS)... [HELD]",
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		q, err := c.openQueue(ctx)
		if err != nil {
			return err
		}
		msgs, err := q.List(ctx)
		if err != nil {
			return err
		}
		now := c.env.Now()
		for _, m := range msgs {
			rcpts := make([]string, len(m.Recipients))
			for i, rc := range m.Recipients {
				rcpts[i] = fmt.Sprintf("%s(%s)", rc.Address, rc.Status)
			}
			held := ""
			if m.Held {
				held = " HELD"
			}
			fmt.Fprintf(c.stdout, "%s %s %d <%s> %s%s\n", m.ID, age(now.Sub(m.Received)), m.Size, m.From, strings.Join(rcpts, " "), held)
		}
		return nil
	},
}

var queueShow = command{
	name: "queue show", usage: "ID", minArgs: 1, maxArgs: 1,
	doc: "show a message's envelope, recipients' delivery state and headers",
	run: func(ctx context.Context, c *cli, f *flagSet) error {
		q, err := c.openQueue(ctx)
		if err != nil {
			return err
		}
		id := f.arg(0)
		m, err := q.Get(ctx, id)
		if err != nil {
			return notQueued(err, id)
		}
		body, err := q.Body(ctx, id)
		if err != nil {
			return notQueued(err, id)
		}
		now := c.env.Now()
		w := c.stdout
		fmt.Fprintf(w, "id: %s\n", m.ID)
		fmt.Fprintf(w, "from: <%s>\n", m.From)
		fmt.Fprintf(w, "received: %s (age %s)\n", stamp(m.Received), age(now.Sub(m.Received)))
		fmt.Fprintf(w, "size: %d\n", m.Size)
		fmt.Fprintf(w, "held: %s\n", yesNo(m.Held))
		fmt.Fprintf(w, "requiretls: %s\n", yesNo(m.RequireTLS)) // outbound only over verified TLS (RFC 8689)
		fmt.Fprintf(w, "delay warning sent: %s\n", yesNo(m.Warned))
		for _, rc := range m.Recipients {
			fmt.Fprintf(w, "recipient: %s\n", rc.Address)
			if rc.Orig != "" && rc.Orig != rc.Address {
				fmt.Fprintf(w, "  original: %s\n", rc.Orig)
			}
			fmt.Fprintf(w, "  remote: %s\n", yesNo(rc.Remote))
			fmt.Fprintf(w, "  status: %s\n", rc.Status)
			fmt.Fprintf(w, "  attempts: %d\n", rc.Attempts)
			if !rc.LastAttempt.IsZero() {
				fmt.Fprintf(w, "  last attempt: %s\n", stamp(rc.LastAttempt))
			}
			if rc.Status == queue.Pending {
				fmt.Fprintf(w, "  next attempt: %s\n", stamp(rc.NextAttempt))
			}
			if rc.LastError != "" {
				fmt.Fprintf(w, "  last error: %s\n", rc.LastError)
			}
			if rc.ClaimUntil.After(now) {
				// A runner (node) is delivering it; another takes it over after this.
				fmt.Fprintf(w, "  claimed by: %s until %s\n", rc.ClaimOwner, stamp(rc.ClaimUntil))
			}
		}
		fmt.Fprintln(w, "headers:")
		sc := bufio.NewScanner(bytes.NewReader(queue.HeaderSection(body)))
		sc.Buffer(nil, len(body)+1)
		for sc.Scan() {
			fmt.Fprintf(w, "  %s\n", strings.TrimRight(sc.Text(), "\r"))
		}
		return sc.Err()
	},
}

var (
	queueRetry = queueAction("retry", "make a message's pending recipients due now", "retrying",
		func(ctx context.Context, q queue.Store, id string) error { return q.RetryNow(ctx, id) })
	queueDelete = queueAction("delete", "remove a message from the queue, without a bounce", "deleted",
		func(ctx context.Context, q queue.Store, id string) error { return q.Delete(ctx, id) })
	queueHold = queueAction("hold", "stop delivery attempts of a message until release", "held",
		func(ctx context.Context, q queue.Store, id string) error { return q.Hold(ctx, id) })
	queueRelease = queueAction("release", "resume delivery attempts of a held message", "released",
		func(ctx context.Context, q queue.Store, id string) error { return q.Release(ctx, id) })
)

// queueAction is a command "queue VERB ID" that applies do to one message
// and prints "DONE ID".
func queueAction(verb, doc, done string, do func(context.Context, queue.Store, string) error) command {
	return command{
		name: "queue " + verb, usage: "ID", minArgs: 1, maxArgs: 1, doc: doc,
		run: func(ctx context.Context, c *cli, f *flagSet) error {
			q, err := c.openQueue(ctx)
			if err != nil {
				return err
			}
			id := f.arg(0)
			if err := do(ctx, q, id); err != nil {
				return notQueued(err, id)
			}
			c.println(done, id)
			return nil
		},
	}
}

// notQueued words an unknown ID for the administrator.
func notQueued(err error, id string) error {
	if errors.Is(err, queue.ErrNotFound) {
		return explain(err, "message %s is not in the queue; see rookery queue list", id)
	}
	return err
}

// age formats a duration in its two largest units: 3d4h, 2h5m, 4m10s, 9s.
func age(d time.Duration) string {
	d = max(d, 0).Truncate(time.Second)
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd%dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", d/time.Hour, d%time.Hour/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%ds", d/time.Minute, d%time.Minute/time.Second)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
