package netserve

import (
	"context"
	"time"
)

// AuthDelay is the tarpit after a failed login, as Dovecot's
// auth_failure_delay: one second per failure of the session, at most
// three, so that guessing passwords over one connection is slow while a
// mistyped password costs a person little. It returns early when ctx ends.
func AuthDelay(ctx context.Context, failures int) {
	t := time.NewTimer(min(time.Duration(failures)*time.Second, 3*time.Second))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
