package imap

import (
	"strings"
)

// rights is a set of RFC 4314 §2.1 rights, one bit per letter of
// rightLetters.
type rights uint16

// rightLetters are the standard rights in the order RFC 4314 lists them,
// which is also the order MYRIGHTS, GETACL and LISTRIGHTS print them.
const rightLetters = "lrswipkxtea"

const (
	rightLookup  rights = 1 << iota // l: LIST, LSUB, SUBSCRIBE
	rightRead                       // r: SELECT, EXAMINE, STATUS, FETCH, SEARCH, COPY from
	rightSeen                       // s: keep \Seen
	rightWrite                      // w: flags other than \Seen and \Deleted
	rightInsert                     // i: APPEND, COPY/MOVE into
	rightPost                       // p: post to the mailbox (not enforced by IMAP)
	rightCreate                     // k: CREATE children, RENAME into as parent
	rightDelete                     // x: DELETE, RENAME from
	rightDelMsg                     // t: \Deleted
	rightExpunge                    // e: EXPUNGE, CLOSE expunging
	rightAdmin                      // a: SETACL, DELETEACL, GETACL, LISTRIGHTS

	allRights rights = 1<<len(rightLetters) - 1
	// writeRights are those without which a SELECT is read-only
	// (RFC 4314 §4: none of "s", "w", "i", "t", "e").
	writeRights = rightSeen | rightWrite | rightInsert | rightDelMsg | rightExpunge
)

// parseRights reads a rights string. The obsolete "c" and "d" of RFC 2086
// stand for the "create" and "delete" groups (RFC 4314 §2.1.1); Rookery
// uses "x" for DELETE, so "c" is "kx" and "d" is "te". An unknown letter
// returns ok=false: RFC 4314 §3.1 requires BAD rather than ignoring it.
func parseRights(str string) (r rights, ok bool) {
	for _, c := range str {
		switch c {
		case 'c':
			r |= rightCreate | rightDelete
		case 'd':
			r |= rightDelMsg | rightExpunge
		default:
			i := strings.IndexRune(rightLetters, c)
			if i < 0 {
				return 0, false
			}
			r |= 1 << i
		}
	}
	return r, true
}

// String renders the set as letters in RFC order ("" for none).
func (r rights) String() string {
	var b strings.Builder
	for i := range len(rightLetters) {
		if r&(1<<i) != 0 {
			b.WriteByte(rightLetters[i])
		}
	}
	return b.String()
}

// has reports whether r holds every right of want.
func (r rights) has(want rights) bool { return r&want == want }

// rightsFromStore converts a mailstore rights string. Stores keep only
// valid letters; anything else grants nothing (fail closed).
func rightsFromStore(s string) rights {
	r, _ := parseRights(s)
	return r
}

// flagRight is the right needed to set or clear flag (RFC 4314 §4, STORE).
func flagRight(flag string) rights {
	switch {
	case strings.EqualFold(flag, `\Seen`):
		return rightSeen
	case strings.EqualFold(flag, `\Deleted`):
		return rightDelMsg
	}
	return rightWrite
}

// allowedFlags returns the flags r may set or clear, in order.
func (r rights) allowedFlags(flags []string) []string {
	var out []string
	for _, f := range flags {
		if r.has(flagRight(f)) {
			out = append(out, f)
		}
	}
	return out
}
