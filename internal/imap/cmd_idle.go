package imap

import (
	"errors"
	"os"
	"strings"
	"time"

	"github.com/rookery-mail/rookery/internal/netserve"
)

// idleFeature: IDLE (RFC 2177). Changes are pushed as soon as the store's
// Watch channel signals, and at least every watchPoll.
var idleFeature = feature{
	caps: func(s *session) []string { return []string{"IDLE"} },
	commands: map[string]commandSpec{
		"IDLE": {states: stateAuthOrSelect, handle: handleIdle, readsClient: true},
	},
}

type lineResult struct {
	line []byte
	err  error
}

func handleIdle(s *session, c *command) error {
	if err := c.p.end(); err != nil {
		return err
	}
	if err := s.continuation("idling"); err != nil {
		return err
	}
	// Report anything that happened before IDLE started.
	if err := s.syncAll(true); err != nil {
		return err
	}
	if err := s.flush(); err != nil {
		return err
	}
	s.armDeadline(s.srv.opts.IdleTimeout)
	done := make(chan lineResult, 1)
	go func() {
		line, err := netserve.ReadLine(s.br, s.srv.opts.MaxLineLength)
		done <- lineResult{line, err}
	}()
	var watch, notifyWatch <-chan struct{}
	if s.sel != nil {
		watch = s.sel.watch
	}
	if s.notify != nil {
		notifyWatch = s.notify.watch // RFC 5465 §3.2: NOTIFY events during IDLE
	}
	poll := time.NewTicker(s.srv.watchPoll)
	defer poll.Stop()
	for {
		select {
		case r := <-done:
			if r.err != nil {
				s.logout = true
				if errors.Is(r.err, os.ErrDeadlineExceeded) && !s.isClosing() {
					s.conn().SetWriteDeadline(time.Now().Add(5 * time.Second))
					s.writef("* BYE Autologout; idle for too long")
					s.flush()
				}
				return errNoReply
			}
			if !strings.EqualFold(string(r.line), "DONE") {
				return errBad("", "Expected DONE")
			}
			c.ok("", "IDLE terminated")
			return nil
		case <-watch:
		case <-notifyWatch:
		case <-poll.C:
		}
		// The reader goroutine owns s.br until DONE arrives, so errors
		// here must not end the command early.
		if err := s.syncAll(true); err != nil {
			s.log.Warn("imap idle sync", "user", s.user, "err", err)
		}
		if err := s.notifyUpdate(); err != nil {
			s.log.Warn("imap idle notify", "user", s.user, "err", err)
		}
		if err := s.flush(); err != nil {
			s.logout = true
			s.conn().Close() // unblocks the reader goroutine
			<-done
			return errNoReply
		}
	}
}
