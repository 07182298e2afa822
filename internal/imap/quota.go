package imap

import (
	"slices"
	"strconv"
	"strings"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// quotaFeature: QUOTA (RFC 9208) with the STORAGE and MESSAGE resources.
// Each user has one quota root, "", over all their mailboxes, and only
// while the administrator has set a limit: an account without limits has
// no quota root. Limits are set with `rookery user quota`, never over
// IMAP, so QUOTASET is not advertised and SETQUOTA answers NO [NOPERM].
// Over-quota APPEND, COPY and MULTIAPPEND answer NO [OVERQUOTA] (errors.go).
var quotaFeature = feature{
	caps: func(s *session) []string { return []string{"QUOTA", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE"} },
	commands: map[string]commandSpec{
		"GETQUOTAROOT": {states: stateAuthOrSelect, handle: handleGetQuotaRoot},
		"GETQUOTA":     {states: stateAuthOrSelect, handle: handleGetQuota},
		"SETQUOTA":     {states: stateAuthOrSelect, handle: handleSetQuota},
	},
}

// A user's own mailboxes share one quota root, "". Another account's
// mailbox, seen through the shared namespace, is charged to its owner, so
// its root is the owner's: "Other Users/<owner>".
func (s *session) quotaRoot(owner string) string {
	if owner == s.user {
		return ""
	}
	return sharedRoot + mailstore.Separator + owner
}

// RFC 9208 §4.1.2: GETQUOTAROOT mailbox → QUOTAROOT, then QUOTA per root.
func handleGetQuotaRoot(s *session, c *command) error {
	name, err := s.oneMailboxArg(c)
	if err != nil {
		return err
	}
	ref, err := s.resolve(name)
	if err != nil {
		return err
	}
	q, err := ref.store.Quota(s.ctx, ref.owner)
	if err != nil {
		return err
	}
	mbox := s.wireName(ref)
	res := quotaResources(q)
	if len(res) == 0 {
		return s.writef("* QUOTAROOT %s", mbox)
	}
	root := quoteIMAP(s.quotaRoot(ref.owner), false)
	return s.writef("* QUOTAROOT %s %s\r\n* QUOTA %s (%s)", mbox, root, root, res)
}

// RFC 9208 §4.1.1: GETQUOTA root. Only the user's own root answers: the
// owner of a shared mailbox is reported through GETQUOTAROOT on it.
func handleGetQuota(s *session, c *command) error {
	if err := c.p.sp(); err != nil {
		return err
	}
	root, err := c.p.astring()
	if err != nil {
		return err
	}
	if err := c.p.end(); err != nil {
		return err
	}
	q, err := s.store.Quota(s.ctx, s.user)
	if err != nil {
		return err
	}
	res := quotaResources(q)
	if root != s.quotaRoot(s.user) || len(res) == 0 {
		return errNo("NONEXISTENT", "No such quota root")
	}
	return s.writef("* QUOTA %s (%s)", quoteIMAP(root, false), res)
}

// RFC 9208 §4.1.3: SETQUOTA root (resource limit ...). The arguments are
// parsed, so a malformed command is still BAD, but users may not change
// their own limits.
func handleSetQuota(s *session, c *command) error {
	if err := c.p.sp(); err != nil {
		return err
	}
	if _, err := c.p.astring(); err != nil {
		return err
	}
	if err := c.p.sp(); err != nil {
		return err
	}
	err := c.p.list(func() error {
		if _, err := c.p.atom(); err != nil {
			return err
		}
		if err := c.p.sp(); err != nil {
			return err
		}
		_, err := c.p.number64()
		return err
	})
	if err != nil {
		return err
	}
	if err := c.p.end(); err != nil {
		return err
	}
	return errNo("NOPERM", "Quota limits are set by the administrator")
}

// deletedStorage is STATUS DELETED-STORAGE (RFC 9208 §4.2): the octets
// an EXPUNGE would free, the sizes of the \Deleted messages, as Cyrus
// reports it. It lists the mailbox, so it costs only when asked for.
func (s *session) deletedStorage(ref mailboxRef) (int64, error) {
	msgs, err := ref.store.Messages(s.ctx, ref.owner, ref.info.ID)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, m := range msgs {
		if slices.Contains(m.Flags, `\Deleted`) {
			n += m.Size
		}
	}
	return n, nil
}

// quotaResources renders the limited resources as "STORAGE used limit
// MESSAGE used limit" (RFC 9208 §5). STORAGE is in units of 1024 octets
// (§5.1): usage rounds up and the limit down, so a client never sees more
// room than there is.
func quotaResources(q mailstore.Quota) string {
	var out []string
	if q.StorageLimit > 0 {
		used := (q.StorageUsed + 1023) / 1024
		out = append(out, "STORAGE "+strconv.FormatInt(used, 10)+" "+strconv.FormatInt(q.StorageLimit/1024, 10))
	}
	if q.MessageLimit > 0 {
		out = append(out, "MESSAGE "+strconv.FormatInt(q.MessagesUsed, 10)+" "+strconv.FormatInt(q.MessageLimit, 10))
	}
	return strings.Join(out, " ")
}
