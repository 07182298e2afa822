package imap

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// objectIDFeature: OBJECTID (RFC 8474). The hooks are in cmd_mailbox.go
// (CREATE), cmd_select.go, cmd_status.go, fetch_parse.go/cmd_fetch.go and
// search_parse.go/cmd_search.go.
var objectIDFeature = feature{
	caps: func(s *session) []string { return []string{"OBJECTID"} },
}

// mailboxObjectID is the MAILBOXID (RFC 8474 §4), which the store keeps
// with the mailbox: it survives RENAME and never names another mailbox.
func mailboxObjectID(info mailstore.MailboxInfo) string { return info.ObjectID }

// mailboxIDCode is the response code of CREATE's OK and of SELECT (RFC
// 8474 §4.1, §4.2).
func mailboxIDCode(info mailstore.MailboxInfo) string {
	return "MAILBOXID (" + mailboxObjectID(info) + ")"
}

// emailID is the EMAILID (RFC 8474 §5.1), derived from the content-hash
// BlobID: COPY and MOVE keep it, as §5.1 requires, and messages with
// byte-identical content share it, which §5.1 allows (a server MAY give
// an APPENDed message with exactly identical content the existing
// message's EMAILID). Hashing again keeps the id within objectid's
// characters and length whatever the blob engine's id looks like; 168
// bits make a collision of different contents negligible.
func emailID(m mailstore.Message) string {
	sum := sha256.Sum256([]byte(m.BlobID))
	return "M" + base64.RawURLEncoding.EncodeToString(sum[:21])
}

// writeObjectIDItem renders FETCH EMAILID or THREADID. Rookery does not
// track threads across mailboxes, and RFC 8474 §5.2 lets such a server
// answer THREADID NIL.
func writeObjectIDItem(b *bytes.Buffer, kind fetchKind, m mailstore.Message) {
	if kind == fetchThreadID {
		b.WriteString("THREADID NIL")
		return
	}
	b.WriteString("EMAILID (")
	b.WriteString(emailID(m))
	b.WriteByte(')')
}

// parseObjectIDKey reads the objectid after SEARCH EMAILID or THREADID
// (RFC 8474 §6).
func parseObjectIDKey(p *parser, name string) (*searchKey, error) {
	id, err := p.atom()
	if err != nil {
		return nil, err
	}
	op := opEmailID
	if name == "THREADID" {
		op = opThreadID
	}
	return &searchKey{op: op, value: id}, nil
}

// matchObjectID evaluates SEARCH EMAILID and THREADID; with THREADID
// always NIL, no message has a thread id to match.
func matchObjectID(k *searchKey, m mailstore.Message) bool {
	return k.op == opEmailID && emailID(m) == k.value
}
