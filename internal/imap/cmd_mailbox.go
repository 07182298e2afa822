package imap

import (
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
	name, err := s.mailboxArg(c.p)
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
	_, err = s.store.CreateMailbox(s.ctx, s.user, name, use)
	return err
}

func handleDelete(s *session, c *command) error {
	name, err := s.oneMailboxArg(c)
	if err != nil {
		return err
	}
	if name == mailstore.Inbox {
		return errNo("CANNOT", "INBOX cannot be deleted")
	}
	if s.sel != nil && s.sel.info.Name == name {
		return errNo("INUSE", "Mailbox is selected")
	}
	return s.store.DeleteMailbox(s.ctx, s.user, name)
}

func handleRename(s *session, c *command) error {
	if err := c.p.sp(); err != nil {
		return err
	}
	from, err := s.mailboxArg(c.p)
	if err != nil {
		return err
	}
	to, err := s.oneMailboxArg(c)
	if err != nil {
		return err
	}
	if to == mailstore.Inbox {
		return errNo("ALREADYEXISTS", "INBOX always exists")
	}
	return s.store.RenameMailbox(s.ctx, s.user, from, to)
}

func handleSubscribe(s *session, c *command) error   { return s.subscribe(c, true) }
func handleUnsubscribe(s *session, c *command) error { return s.subscribe(c, false) }

func (s *session) subscribe(c *command, on bool) error {
	name, err := s.oneMailboxArg(c)
	if err != nil {
		return err
	}
	return s.store.SetSubscribed(s.ctx, s.user, name, on)
}

// RFC 2342: one personal namespace with no prefix.
func handleNamespace(s *session, c *command) error {
	if err := c.p.end(); err != nil {
		return err
	}
	return s.writef(`* NAMESPACE (("" "%s")) NIL NIL`, mailstore.Separator)
}
