package pop3

import (
	"errors"
	"fmt"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// mailCommands are the TRANSACTION state commands (RFC 1939 §5, §7).
var mailCommands = map[string]commandSpec{
	"STAT": {states: stateTransaction, handle: handleStat},
	"LIST": {states: stateTransaction, handle: handleList},
	"UIDL": {states: stateTransaction, handle: handleUIDL},
	"RETR": {states: stateTransaction, handle: handleRetr},
	"TOP":  {states: stateTransaction, handle: handleTop},
	"DELE": {states: stateTransaction, handle: handleDele},
	"RSET": {states: stateTransaction, handle: handleRset},
	"NOOP": {states: stateTransaction, handle: handleNoop},
}

// RFC 1939 §5 STAT.
func handleStat(s *session, arg string) error {
	if arg != "" {
		return errReply("", "STAT takes no arguments.")
	}
	n, size := s.drop.stat()
	s.ok("%d %d", n, size)
	return nil
}

// scanListing answers LIST and UIDL, which share their shape: one message
// as a single line, or all messages not marked deleted as a multi-line
// response.
func (s *session) scanListing(arg string, value func(*dropMsg) string) error {
	args := fields(arg)
	switch len(args) {
	case 0:
		n, size := s.drop.stat()
		s.ok("%d messages (%d octets)", n, size)
		for i := range s.drop.msgs {
			if m := &s.drop.msgs[i]; !m.deleted {
				s.writeLine("%d %s", i+1, value(m))
			}
		}
		s.writeLine(".")
		return nil
	case 1:
		n, m, err := s.drop.get(args[0])
		if err != nil {
			return err
		}
		s.ok("%d %s", n, value(m))
		return nil
	default:
		return errReply("", "Too many arguments.")
	}
}

// RFC 1939 §5 LIST. The size is the message's octets with CRLF line
// endings, before byte-stuffing: what the client holds after un-stuffing.
func handleList(s *session, arg string) error {
	return s.scanListing(arg, func(m *dropMsg) string { return fmt.Sprint(m.size) })
}

// RFC 1939 §7 UIDL; see maildrop.uidl for the format.
func handleUIDL(s *session, arg string) error {
	return s.scanListing(arg, s.drop.uidl)
}

// RFC 1939 §5 RETR. A retrieved message becomes \Seen when the session
// ends with QUIT, as Dovecot's default (pop3_no_flag_updates = no) does.
func handleRetr(s *session, arg string) error {
	args := fields(arg)
	if len(args) != 1 {
		return errReply("", "RETR takes one message number.")
	}
	_, m, err := s.drop.get(args[0])
	if err != nil {
		return err
	}
	if err := s.send(m, -1, fmt.Sprintf("%d octets", m.size)); err != nil {
		return err
	}
	m.read = true
	s.retrs++
	return nil
}

// RFC 1939 §7 TOP msg n: the header, the blank line, n body lines.
func handleTop(s *session, arg string) error {
	args := fields(arg)
	if len(args) != 2 {
		return errReply("", "TOP takes a message number and a line count.")
	}
	_, m, err := s.drop.get(args[0])
	if err != nil {
		return err
	}
	lines, ok := parseNumber(args[1])
	if !ok {
		return errReply("", "Invalid line count.")
	}
	return s.send(m, lines, "")
}

// send writes "+OK" and the message. The snapshot may name a message
// another session expunged since login: its blob usually outlives the
// expunge until garbage collection, so it is still served; once collected
// (ErrBlobMissing) it gets a plain -ERR, anything else is a temporary
// failure.
func (s *session) send(m *dropMsg, bodyLines int, text string) error {
	rc, err := s.store.OpenBlob(s.ctx, m.blobID)
	if errors.Is(err, mailstore.ErrBlobMissing) {
		return errReply("", "Message was expunged by another session.")
	}
	if err != nil {
		return fmt.Errorf("open message %d: %w", m.uid, err)
	}
	defer rc.Close()
	if text == "" {
		s.ok("")
	} else {
		s.ok("%s", text)
	}
	n, err := writeMessage(s.bw, rc, bodyLines)
	s.bytes += n
	if err != nil {
		// The +OK is out: the response cannot be turned into -ERR, so
		// the session must end.
		s.quit = true
		s.log.Warn("pop3 send message", "uid", m.uid, "err", err)
		return nil
	}
	return nil
}

// RFC 1939 §5 DELE: only marks; QUIT commits.
func handleDele(s *session, arg string) error {
	args := fields(arg)
	if len(args) != 1 {
		return errReply("", "DELE takes one message number.")
	}
	n, m, err := s.drop.get(args[0])
	if err != nil {
		return err
	}
	m.deleted = true
	s.ok("Message %d marked for deletion.", n)
	return nil
}

// RFC 1939 §5 RSET.
func handleRset(s *session, arg string) error {
	for i := range s.drop.msgs {
		s.drop.msgs[i].deleted = false
	}
	n, size := s.drop.stat()
	s.ok("%d messages (%d octets)", n, size)
	return nil
}

// RFC 1939 §5 NOOP.
func handleNoop(s *session, arg string) error {
	s.ok("")
	return nil
}
