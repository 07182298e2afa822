package pop3

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// maildrop is the snapshot of the user's INBOX taken at login: message
// numbers are positions in it and stay fixed for the session (RFC 1939
// §5), whatever IMAP sessions do meanwhile. Mail arriving later is seen at
// the next login.
type maildrop struct {
	mailboxID   int64
	uidValidity uint32
	msgs        []dropMsg
}

type dropMsg struct {
	uid     uint32
	size    int64 // octets of the message as stored (CRLF), before byte-stuffing
	blobID  string
	deleted bool // marked by DELE, undone by RSET
	read    bool // sent whole by RETR: becomes \Seen at QUIT
}

func loadMaildrop(ctx context.Context, store mailstore.Store, user string) (*maildrop, error) {
	mb, err := store.Mailbox(ctx, user, mailstore.Inbox)
	if err != nil {
		return nil, fmt.Errorf("open INBOX of %s: %w", user, err)
	}
	msgs, err := store.Messages(ctx, user, mb.ID)
	if err != nil {
		return nil, fmt.Errorf("list INBOX of %s: %w", user, err)
	}
	d := &maildrop{mailboxID: mb.ID, uidValidity: mb.UIDValidity, msgs: make([]dropMsg, len(msgs))}
	for i, m := range msgs {
		d.msgs[i] = dropMsg{uid: m.UID, size: m.Size, blobID: m.BlobID}
	}
	return d, nil
}

// uidl is the message's unique-id (RFC 1939 §7): "<UIDVALIDITY>.<UID>" of
// the INBOX, the same identity IMAP clients see. It never changes for a
// message and is never reused, because UIDVALIDITY never changes and UIDs
// are never reused (ARCHITECTURE §2).
func (d *maildrop) uidl(m *dropMsg) string { return fmt.Sprintf("%d.%d", d.uidValidity, m.uid) }

// stat counts and sizes the messages not marked deleted (RFC 1939 §5 STAT).
func (d *maildrop) stat() (n int, size int64) {
	for _, m := range d.msgs {
		if !m.deleted {
			n++
			size += m.size
		}
	}
	return n, size
}

// get resolves a message-number argument; deleted messages may not be
// referred to (RFC 1939 §5).
func (d *maildrop) get(arg string) (int, *dropMsg, error) {
	n, ok := parseNumber(arg)
	if !ok {
		return 0, nil, errReply("", "Invalid message number.")
	}
	if n < 1 || n > len(d.msgs) {
		return 0, nil, errReply("", "No such message.")
	}
	m := &d.msgs[n-1]
	if m.deleted {
		return 0, nil, errReply("", "Message is deleted.")
	}
	return n, m, nil
}

// commit is the UPDATE state (RFC 1939 §6): set \Deleted on the marked
// messages and expunge exactly those UIDs, so that a flag another client
// set on other messages is not acted on. It returns how many were marked.
func (d *maildrop) commit(ctx context.Context, store mailstore.Store, user string) (int, error) {
	var uids, read []uint32
	for _, m := range d.msgs {
		switch {
		case m.deleted:
			uids = append(uids, m.uid)
		case m.read:
			read = append(read, m.uid)
		}
	}
	// Retrieved messages left on the server become \Seen, as in Dovecot
	// (pop3_no_flag_updates = no), so an IMAP client shows them as read.
	if len(read) > 0 {
		if _, err := store.SetFlags(ctx, user, d.mailboxID, read, mailstore.FlagsAdd, []string{`\Seen`}); err != nil {
			return 0, fmt.Errorf("flag seen: %w", err)
		}
	}
	if len(uids) == 0 {
		return 0, nil
	}
	if _, err := store.SetFlags(ctx, user, d.mailboxID, uids, mailstore.FlagsAdd, []string{`\Deleted`}); err != nil {
		return len(uids), fmt.Errorf("flag deleted: %w", err)
	}
	if _, err := store.Expunge(ctx, user, d.mailboxID, uids); err != nil {
		return len(uids), fmt.Errorf("expunge: %w", err)
	}
	return len(uids), nil
}

// writeMessage sends a message as a multi-line response body (RFC 1939
// §3): lines starting with "." are byte-stuffed, a last line without CRLF
// gets one, and ".\r\n" ends it. bodyLines < 0 sends everything; otherwise
// the header, the blank line and at most bodyLines body lines (TOP). It
// returns the octets written.
func writeMessage(w *bufio.Writer, r io.Reader, bodyLines int) (int64, error) {
	br := bufio.NewReaderSize(r, 32<<10)
	var n int64
	atStart, inHeader, lineEmpty := true, true, true
	count := 0
	done := false
	for !done {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			if atStart {
				lineEmpty = true
				if chunk[0] == '.' {
					w.WriteByte('.')
					n++
				}
			}
			if _, werr := w.Write(chunk); werr != nil {
				return n, werr // the client is gone; stop reading the blob
			}
			n += int64(len(chunk))
			ended := chunk[len(chunk)-1] == '\n'
			content := chunk
			if ended {
				content = content[:len(content)-1]
				if len(content) > 0 && content[len(content)-1] == '\r' {
					content = content[:len(content)-1]
				}
			}
			if len(content) > 0 {
				lineEmpty = false
			}
			atStart = ended
			if ended && bodyLines >= 0 {
				switch {
				case inHeader && lineEmpty:
					inHeader = false
					done = bodyLines == 0
				case !inHeader:
					count++
					done = count >= bodyLines
				}
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
	}
	if !atStart {
		w.WriteString("\r\n")
		n += 2
	}
	w.WriteString(".\r\n")
	return n + 3, nil
}
