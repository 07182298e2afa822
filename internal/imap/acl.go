package imap

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// aclFeature: ACL (RFC 4314) — SETACL, DELETEACL, GETACL, LISTRIGHTS and
// MYRIGHTS. RIGHTS=texk says the "t", "e", "x" and "k" rights of RFC 4314
// §2.1 are distinct (RFC 4314 §2.1.1). Mailboxes are shared through the
// other users' namespace (shared.go); the rights are enforced where each
// command resolves its mailbox.
var aclFeature = feature{
	caps: func(s *session) []string { return []string{"ACL", "RIGHTS=texk"} },
	commands: map[string]commandSpec{
		"SETACL":     {states: stateAuthOrSelect, handle: handleSetACL},
		"DELETEACL":  {states: stateAuthOrSelect, handle: handleDeleteACL},
		"GETACL":     {states: stateAuthOrSelect, handle: handleGetACL},
		"LISTRIGHTS": {states: stateAuthOrSelect, handle: handleListRights},
		"MYRIGHTS":   {states: stateAuthOrSelect, handle: handleMyRights},
	},
}

// UserResolver is an optional Backend interface: it turns an ACL
// identifier as a user typed it (a bare local part, another case) into
// the canonical account name the store knows. Without it identifiers are
// taken as given, lower-cased.
type UserResolver interface {
	ResolveUser(ctx context.Context, name string) (string, error)
}

// anyone is the RFC 4314 §2 identifier matching every user.
const anyone = "anyone"

// identifier reads an ACL identifier and canonicalizes it.
func (s *session) identifier(p *parser) (string, error) {
	raw, err := p.astring()
	if err != nil {
		return "", err
	}
	if raw == "" {
		return "", errBad("", "Empty identifier")
	}
	if strings.EqualFold(raw, anyone) {
		return anyone, nil
	}
	return s.accountName(raw)
}

// accountName canonicalizes a user name as typed (in an ACL identifier
// or an IMAP URL) to the account name the store knows.
func (s *session) accountName(raw string) (string, error) {
	if r, ok := s.srv.opts.Backend.(UserResolver); ok {
		id, err := r.ResolveUser(s.ctx, raw)
		if err != nil {
			return "", fmt.Errorf("resolve identifier %q: %w", raw, err)
		}
		return id, nil
	}
	return strings.ToLower(raw), nil
}

// aclTarget reads " mailbox" and resolves it for an ACL command needing
// the "a" right (RFC 4314 §4).
func (s *session) aclTarget(c *command) (mailboxRef, error) {
	if err := c.p.sp(); err != nil {
		return mailboxRef{}, err
	}
	name, err := s.mailboxArg(c.p)
	if err != nil {
		return mailboxRef{}, err
	}
	return s.resolveFor(name, rightAdmin)
}

// aclTargetID reads " mailbox identifier" for SETACL, DELETEACL and
// LISTRIGHTS.
func (s *session) aclTargetID(c *command) (mailboxRef, string, error) {
	ref, err := s.aclTarget(c)
	if err != nil {
		return ref, "", err
	}
	if err := c.p.sp(); err != nil {
		return ref, "", err
	}
	id, err := s.identifier(c.p)
	return ref, id, err
}

// RFC 4314 §3.1: SETACL mailbox identifier [+|-]rights.
func handleSetACL(s *session, c *command) error {
	ref, id, err := s.aclTargetID(c)
	if err != nil {
		return err
	}
	if err := c.p.sp(); err != nil {
		return err
	}
	mod, err := c.p.astring()
	if err != nil {
		return err
	}
	if err := c.p.end(); err != nil {
		return err
	}
	op := mod[:min(1, len(mod))]
	if op == "+" || op == "-" {
		mod = mod[1:]
	} else {
		op = ""
	}
	want, ok := parseRights(mod)
	if !ok {
		return errBad("", "Unknown right in "+mod) // RFC 4314 §3.1: never ignored
	}
	return s.changeACL(ref, id, func(cur rights) rights {
		switch op {
		case "+":
			return cur | want
		case "-":
			return cur &^ want
		}
		return want
	})
}

// RFC 4314 §3.2: DELETEACL mailbox identifier.
func handleDeleteACL(s *session, c *command) error {
	ref, id, err := s.aclTargetID(c)
	if err != nil {
		return err
	}
	if err := c.p.end(); err != nil {
		return err
	}
	return s.changeACL(ref, id, func(rights) rights { return 0 })
}

// changeACL applies change to id's entry. The owner's rights are implicit
// and fixed (RFC 4314 §2 lets a server refuse to change them).
func (s *session) changeACL(ref mailboxRef, id string, change func(rights) rights) error {
	if id == ref.owner {
		return errNo("CANNOT", "The owner always has all rights")
	}
	entries, err := ref.store.ACL(s.ctx, ref.owner, ref.info.ID)
	if err != nil {
		return err
	}
	var cur rights
	for _, e := range entries {
		if e.Identifier == id {
			cur = rightsFromStore(e.Rights)
		}
	}
	return ref.store.SetACL(s.ctx, ref.owner, ref.info.Name, id, change(cur).String())
}

// RFC 4314 §3.3: GETACL answers "* ACL mailbox (identifier rights)*",
// the owner's implicit entry first.
func handleGetACL(s *session, c *command) error {
	ref, err := s.aclTarget(c)
	if err != nil {
		return err
	}
	if err := c.p.end(); err != nil {
		return err
	}
	entries, err := ref.store.ACL(s.ctx, ref.owner, ref.info.ID)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "* ACL %s %s %s", s.wireName(ref), s.quote(ref.owner), allRights)
	for _, e := range entries {
		fmt.Fprintf(&b, " %s %s", s.quote(e.Identifier), rightsFromStore(e.Rights))
	}
	return s.writef("%s", b.String())
}

// RFC 4314 §3.4: LISTRIGHTS names the rights always granted to the
// identifier, then each right that may be granted on its own. The owner
// holds all of them; anyone else none until granted.
func handleListRights(s *session, c *command) error {
	ref, id, err := s.aclTargetID(c)
	if err != nil {
		return err
	}
	if err := c.p.end(); err != nil {
		return err
	}
	name := s.wireName(ref)
	if id == ref.owner {
		return s.writef("* LISTRIGHTS %s %s %s", name, s.quote(id), allRights)
	}
	return s.writef(`* LISTRIGHTS %s %s "" %s`, name, s.quote(id), strings.Join(strings.Split(rightLetters, ""), " "))
}

// RFC 4314 §3.5: MYRIGHTS needs any right on the mailbox; resolve already
// hides mailboxes without "l" or "r".
func handleMyRights(s *session, c *command) error {
	name, err := s.oneMailboxArg(c)
	if err != nil {
		return err
	}
	ref, err := s.resolve(name)
	if err != nil {
		return err
	}
	return s.writef("* MYRIGHTS %s %s", s.wireName(ref), ref.rights)
}

// permittedStores applies RFC 4314 §4 to a STORE: \Seen needs "s",
// \Deleted "t" and other flags "w"; flags the user may not change are left
// alone. With every right the request runs as is. Otherwise a FLAGS
// replacement becomes "add the permitted requested flags" then "remove the
// permitted flags the messages have but the request lacks", two store
// writes; with UNCHANGEDSINCE that split cannot keep the test atomic, so
// it is refused. NO [NOPERM] when none of the requested flags may change.
func (sel *selected) permittedStores(req mailstore.ConditionalFlags) ([]mailstore.ConditionalFlags, error) {
	const flagRights = rightSeen | rightWrite | rightDelMsg
	r := sel.rights
	if r.has(flagRights) {
		return []mailstore.ConditionalFlags{req}, nil
	}
	deny := errNo("NOPERM", "Permission denied: no right to change these flags")
	allowed := r.allowedFlags(req.Flags)
	if req.Op != mailstore.FlagsReplace {
		if len(allowed) == 0 {
			return nil, deny
		}
		req.Flags = allowed
		return []mailstore.ConditionalFlags{req}, nil
	}
	if r&flagRights == 0 {
		return nil, deny
	}
	if req.UnchangedSince != math.MaxUint64 {
		return nil, errNo("NOPERM", "STORE FLAGS with UNCHANGEDSINCE needs the s, w and t rights")
	}
	requested := make(map[string]bool, len(allowed))
	for _, f := range allowed {
		requested[strings.ToLower(f)] = true
	}
	var remove []string
	seen := make(map[string]bool)
	for _, uid := range req.UIDs {
		for _, f := range r.allowedFlags(sel.msgs[sel.index(uid)].Flags) {
			if k := strings.ToLower(f); !requested[k] && !seen[k] {
				seen[k] = true
				remove = append(remove, f)
			}
		}
	}
	var out []mailstore.ConditionalFlags
	if len(allowed) > 0 {
		add := req
		add.Op, add.Flags = mailstore.FlagsAdd, allowed
		out = append(out, add)
	}
	if len(remove) > 0 {
		del := req
		del.Op, del.Flags = mailstore.FlagsRemove, remove
		out = append(out, del)
	}
	return out, nil
}

// writable is the check of commands that change the selected mailbox:
// NO [NOPERM] when the user's rights made it read-only (RFC 4314 §4), NO
// [READ-ONLY] when the client chose EXAMINE.
func (sel *selected) writable() error {
	if sel.rights&writeRights == 0 {
		return errNo("NOPERM", "Permission denied: no right to change this mailbox")
	}
	if sel.readOnly {
		return errNo("READ-ONLY", "Mailbox is read-only")
	}
	return nil
}

// mayRemove checks what taking messages out of the selected mailbox needs
// (MOVE, REPLACE): a writable selection with "t" and "e" (RFC 4314 §4).
func (sel *selected) mayRemove() error {
	if err := sel.writable(); err != nil {
		return err
	}
	return needRights(sel.rights, rightDelMsg|rightExpunge)
}

// permanentFlags is the PERMANENTFLAGS list of a read-write SELECT: the
// flags the user's rights let them change, and "\*" (new keywords) with
// the "w" right.
func permanentFlags(flags []string, r rights) []string {
	out := r.allowedFlags(flags)
	if r.has(rightWrite) {
		out = append(out, `\*`)
	}
	return out
}
