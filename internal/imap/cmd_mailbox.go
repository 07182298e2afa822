package imap

import (
	"errors"
	"strings"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// mailboxFeature: CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE (RFC 3501
// §6.3) and NAMESPACE (RFC 2342).
var mailboxFeature = feature{
	caps: func(s *session) []string { return []string{"NAMESPACE", "CHILDREN"} },
	commands: map[string]commandSpec{
		"CREATE":      {states: stateAuthOrSelect, handle: handleCreate},
		"DELETE":      {states: stateAuthOrSelect, handle: handleDelete},
		"RENAME":      {states: stateAuthOrSelect, handle: handleRename},
		"SUBSCRIBE":   {states: stateAuthOrSelect, handle: handleSubscribe},
		"UNSUBSCRIBE": {states: stateAuthOrSelect, handle: handleUnsubscribe},
		"NAMESPACE":   {states: stateAuthOrSelect, handle: handleNamespace},
	},
}

// oneMailboxArg reads " mailbox" and the end of the command.
func (s *session) oneMailboxArg(c *command) (string, error) {
	if err := c.p.sp(); err != nil {
		return "", err
	}
	name, err := s.mailboxArg(c.p)
	if err != nil {
		return "", err
	}
	return name, c.p.end()
}

func handleCreate(s *session, c *command) error {
	if err := c.p.sp(); err != nil {
		return err
	}
	name, err := s.newMailboxArg(c.p)
	if err != nil {
		return err
	}
	var use string
	if !c.p.atEnd() {
		if err := c.p.sp(); err != nil {
			return err
		}
		if use, err = parseCreateParams(c.p); err != nil {
			return err
		}
	}
	if err := c.p.end(); err != nil {
		return err
	}
	// RFC 3501 §6.3.3: a trailing separator only declares intent to have children.
	name = strings.TrimSuffix(name, mailstore.Separator)
	if name == "" {
		return errNo("CANNOT", "Invalid mailbox name")
	}
	if strings.EqualFold(name, mailstore.Inbox) {
		return errNo("ALREADYEXISTS", "INBOX always exists")
	}
	dst, err := s.place(name) // shared.go: "k" on a shared parent
	if err != nil {
		return err
	}
	info, err := s.store.CreateMailbox(s.ctx, dst.owner, dst.name, use)
	if err != nil {
		return err
	}
	c.ok(mailboxIDCode(info), "CREATE completed") // RFC 8474 §4.1
	return nil
}

func handleDelete(s *session, c *command) error {
	name, err := s.oneMailboxArg(c)
	if err != nil {
		return err
	}
	if name == mailstore.Inbox {
		return errNo("CANNOT", "INBOX cannot be deleted")
	}
	ref, err := s.resolveFor(name, rightDelete) // RFC 4314 §4
	if err != nil {
		return err
	}
	if s.sel != nil && s.sel.owner == ref.owner && s.sel.info.ID == ref.info.ID {
		return errNo("INUSE", "Mailbox is selected")
	}
	return ref.store.DeleteMailbox(s.ctx, ref.owner, ref.info.Name)
}

func handleRename(s *session, c *command) error {
	if err := c.p.sp(); err != nil {
		return err
	}
	from, err := s.mailboxArg(c.p)
	if err != nil {
		return err
	}
	if err := c.p.sp(); err != nil {
		return err
	}
	to, err := s.newMailboxArg(c.p)
	if err != nil {
		return err
	}
	if err := c.p.end(); err != nil {
		return err
	}
	if to == mailstore.Inbox {
		return errNo("ALREADYEXISTS", "INBOX always exists")
	}
	// RFC 4314 §4: "x" on the old name, "k" on the new parent.
	src, err := s.resolveFor(from, rightDelete)
	if err != nil {
		return err
	}
	dst, err := s.place(to)
	if err != nil {
		return err
	}
	if dst.owner != src.owner {
		return errNo("CANNOT", "Cannot rename a mailbox into another account")
	}
	return src.store.RenameMailbox(s.ctx, src.owner, src.info.Name, dst.name)
}

func handleSubscribe(s *session, c *command) error   { return s.subscribe(c, true) }
func handleUnsubscribe(s *session, c *command) error { return s.subscribe(c, false) }

func (s *session) subscribe(c *command, on bool) error {
	name, err := s.oneMailboxArg(c)
	if err != nil {
		return err
	}
	ref, err := s.resolve(name)
	if !on && !isSharedName(name) && errors.Is(err, mailstore.ErrNoMailbox) {
		// RFC 3501 §6.3.6: a subscription outlives its mailbox; it can
		// still be removed.
		return s.store.SetSubscribed(s.ctx, s.user, name, false)
	}
	if err != nil {
		return err
	}
	if ref.shared(s.user) {
		return nil // always subscribed: see sharedListing
	}
	return s.store.SetSubscribed(s.ctx, s.user, ref.info.Name, on)
}

// RFC 2342: one personal namespace with no prefix, and the other users'
// mailboxes shared with this user under sharedRoot (shared.go).
func handleNamespace(s *session, c *command) error {
	if err := c.p.end(); err != nil {
		return err
	}
	return s.writef(`* NAMESPACE (("" "%[1]s")) (("%[2]s%[1]s" "%[1]s")) NIL`, mailstore.Separator, sharedRoot)
}
