package imap

import (
	"fmt"
	"strings"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// sharedRoot is the prefix of the other users' namespace (RFC 2342 §5):
// another account's mailbox appears as "Other Users/<owner>/<name>", with
// owner the canonical account name. Personal names under it are refused.
const sharedRoot = "Other Users"

// mailboxRef is a mailbox named by a command, resolved to the account that
// owns it and what the session's user may do there.
//
// The session's store holds every account it can share with: a single
// node has one store, and a shared PostgreSQL store holds all accounts.
// A cluster whose nodes each hold only some accounts needs the Backend to
// locate the owner's store instead: resolve would set store from it, and
// selected, CREATE and cross-account COPY (which use the session's store)
// would have to carry it too.
type mailboxRef struct {
	owner  string
	store  mailstore.Store
	info   mailstore.MailboxInfo
	rights rights
}

// shared reports whether the mailbox belongs to another account.
func (r mailboxRef) shared(user string) bool { return r.owner != user }

// isSharedName reports whether name lies in the other users' namespace.
func isSharedName(name string) bool {
	return name == sharedRoot || strings.HasPrefix(name, sharedRoot+mailstore.Separator)
}

// splitShared splits "Other Users/owner/rest"; owner or rest is empty when
// the name stops above a mailbox.
func splitShared(name string) (owner, rest string) {
	tail := strings.TrimPrefix(strings.TrimPrefix(name, sharedRoot), mailstore.Separator)
	owner, rest, _ = strings.Cut(tail, mailstore.Separator)
	return owner, normalizeInbox(rest)
}

// clientName is the name the session's user knows owner's mailbox by.
func (s *session) clientName(owner, name string) string {
	if owner == s.user {
		return name
	}
	return sharedRoot + mailstore.Separator + owner + mailstore.Separator + name
}

// wireName is how responses name ref's mailbox to this session.
func (s *session) wireName(ref mailboxRef) string {
	return s.mailboxName(s.clientName(ref.owner, ref.info.Name))
}

// resolve finds the mailbox a command names: personal names in the user's
// own account with all rights (the owner's are implicit, RFC 4314 §2),
// shared names through the ACLs granted to the user or "anyone". A shared
// mailbox without "l" or "r" is reported as nonexistent, so an ACL does not
// reveal that it exists (RFC 4314 §4).
func (s *session) resolve(name string) (mailboxRef, error) {
	if !isSharedName(name) {
		info, err := s.store.Mailbox(s.ctx, s.user, name)
		if err != nil {
			return mailboxRef{}, err
		}
		return mailboxRef{owner: s.user, store: s.store, info: info, rights: allRights}, nil
	}
	owner, rest := splitShared(name)
	sms, err := s.store.SharedWith(s.ctx, s.user)
	if err != nil {
		return mailboxRef{}, fmt.Errorf("resolve %q: %w", name, err)
	}
	for _, sm := range sms {
		if sm.Owner != owner || sm.Name != rest {
			continue
		}
		r := rightsFromStore(sm.Rights)
		if r&(rightLookup|rightRead) == 0 {
			break
		}
		return mailboxRef{owner: owner, store: s.store, info: sm.MailboxInfo, rights: r}, nil
	}
	return mailboxRef{}, fmt.Errorf("%q: %w", name, mailstore.ErrNoMailbox)
}

// resolveFor is resolve plus the check that the user holds want.
func (s *session) resolveFor(name string, want rights) (mailboxRef, error) {
	ref, err := s.resolve(name)
	if err != nil {
		return ref, err
	}
	return ref, needRights(ref.rights, want)
}

// needRights is the one place a missing right becomes NO [NOPERM].
func needRights(have, want rights) error {
	if !have.has(want) {
		return errNo("NOPERM", "Permission denied: needs rights "+want.String())
	}
	return nil
}

// placement is where a new mailbox name (CREATE, RENAME target) lands:
// the owning account and the name in it.
type placement struct {
	owner string
	name  string
}

// place resolves a name for a mailbox that does not exist yet. A shared
// name needs "k" on its parent mailbox (RFC 4314 §4, CREATE and RENAME);
// a name directly below "Other Users/<owner>" has no parent the user could
// hold rights on and is refused.
func (s *session) place(name string) (placement, error) {
	if !isSharedName(name) {
		return placement{owner: s.user, name: name}, nil
	}
	owner, rest := splitShared(name)
	if owner == "" || rest == "" {
		return placement{}, errNo("CANNOT", "Reserved name of the other users' namespace")
	}
	if owner == s.user {
		return placement{}, errNo("CANNOT", "Use the personal name of your own mailbox")
	}
	i := strings.LastIndex(rest, mailstore.Separator)
	if i < 0 {
		return placement{}, errNo("NOPERM", "Permission denied: only the owner creates top-level mailboxes")
	}
	parent := name[:len(name)-len(rest)+i]
	if _, err := s.resolveFor(parent, rightCreate); err != nil {
		return placement{}, err
	}
	return placement{owner: owner, name: rest}, nil
}

// sharedListing returns the other accounts' mailboxes the user may list
// ("l", RFC 4314 §4) under their client names, with their references by
// that name. Subscriptions are per account and name, the owner's, so
// shared mailboxes are reported subscribed for every user who sees them
// and SUBSCRIBE leaves them unchanged.
func (s *session) sharedListing() ([]mailstore.MailboxInfo, map[string]mailboxRef, error) {
	sms, err := s.store.SharedWith(s.ctx, s.user)
	if err != nil {
		return nil, nil, fmt.Errorf("list shared mailboxes: %w", err)
	}
	var boxes []mailstore.MailboxInfo
	refs := make(map[string]mailboxRef)
	for _, sm := range sms {
		r := rightsFromStore(sm.Rights)
		if !r.has(rightLookup) {
			continue
		}
		info := sm.MailboxInfo
		info.Name = s.clientName(sm.Owner, sm.Name)
		info.Subscribed = true
		boxes = append(boxes, info)
		refs[info.Name] = mailboxRef{owner: sm.Owner, store: s.store, info: sm.MailboxInfo, rights: r}
	}
	return boxes, refs, nil
}

// listRef is the reference of a LIST entry: shared when sharedListing
// returned it, else the user's own mailbox; one with no rights for a
// parent that does not exist (info nil).
func (s *session) listRef(info *mailstore.MailboxInfo, shared map[string]mailboxRef) mailboxRef {
	if info == nil {
		return mailboxRef{}
	}
	if ref, ok := shared[info.Name]; ok {
		return ref
	}
	return mailboxRef{owner: s.user, store: s.store, info: *info, rights: allRights}
}

// copyAcross is COPY or MOVE between accounts. The store copies only
// within one account, so each message is read and appended to the
// destination, flags limited to the user's rights there (RFC 4314 §4); a
// failure removes the copies made so far, as APPEND does (multiappend.go).
// MOVE then flags the sources \Deleted and expunges them: unlike a MOVE
// within one account this is not atomic, and a crash in between leaves
// both copies.
func (s *session) copyAcross(uids []uint32, dst mailboxRef, move bool) (src, dstUIDs []uint32, err error) {
	for _, uid := range uids {
		m := s.sel.msgs[s.sel.index(uid)]
		raw, err := s.readBlob(m)
		if err == nil {
			var got []uint32
			got, err = s.appendAll(dst, []appendMsg{{flags: m.Flags, date: m.InternalDate, body: raw}})
			dstUIDs = append(dstUIDs, got...)
		}
		if err != nil {
			if rbErr := s.rollbackAppend(dst, dstUIDs); rbErr != nil {
				s.log.Error("imap copy rollback failed", "user", s.user, "uids", dstUIDs, "err", rbErr)
			}
			return nil, nil, err
		}
		src = append(src, uid)
	}
	if !move || len(src) == 0 {
		return src, dstUIDs, nil
	}
	if _, err := s.store.SetFlags(s.ctx, s.sel.owner, s.sel.info.ID, src, mailstore.FlagsAdd, []string{`\Deleted`}); err != nil {
		return nil, nil, fmt.Errorf("move: flag sources: %w", err)
	}
	if _, err := s.store.Expunge(s.ctx, s.sel.owner, s.sel.info.ID, src); err != nil {
		return nil, nil, fmt.Errorf("move: expunge sources: %w", err)
	}
	return src, dstUIDs, nil
}

// refreshRights re-reads the user's rights on a selected shared mailbox,
// so a changed ACL applies from the next command on (at once in IDLE,
// which SetACL wakes). It reports false when the user may no longer read
// the mailbox.
func (s *session) refreshRights() (bool, error) {
	sel := s.sel
	if sel.owner == s.user {
		return true, nil
	}
	sms, err := s.store.SharedWith(s.ctx, s.user)
	if err != nil {
		return false, fmt.Errorf("refresh rights: %w", err)
	}
	sel.rights = 0
	for _, sm := range sms {
		if sm.Owner == sel.owner && sm.ID == sel.info.ID {
			sel.rights = rightsFromStore(sm.Rights)
		}
	}
	return sel.rights.has(rightRead), nil
}
