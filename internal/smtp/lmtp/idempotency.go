package lmtp

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/netip"

	"github.com/emersion/go-smtp"
)

// maxEnvelopeID is RFC 3461 §4.4's bound on ENVID.
const maxEnvelopeID = 100

// errLongEnvelopeID refuses an ENVID longer than RFC 3461 allows.
var errLongEnvelopeID = &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 5, 4},
	Message: "ENVID longer than 100 characters (RFC 3461 section 4.4)"}

// idempotencyKey returns the transaction's idempotency key: MAIL FROM's
// ENVID when the client is an idempotency peer, else "" (a fresh id per
// transaction, as before).
//
// Only configured peers are trusted because ENVID is end to end: a relay
// such as Postfix passes on whatever the original sender chose, which need
// not be unique, so keying on it from any client would let one sender's
// reused ENVID make later mail, its own or anyone's, count as already
// stored: mail lost. A Rookery node sends its queue id, unique per message.
// The key is not namespaced by the peer's address: a retry may come from
// another node that took over the first one's queue claim, and must hit the
// same delivery ids.
func (s *Server) idempotencyKey(c *smtp.Conn, opts *smtp.MailOptions) (string, error) {
	if opts == nil || opts.EnvelopeID == "" || !s.idempotencyPeer(c) {
		return "", nil
	}
	if len(opts.EnvelopeID) > maxEnvelopeID {
		return "", errLongEnvelopeID
	}
	return opts.EnvelopeID, nil
}

func (s *Server) idempotencyPeer(c *smtp.Conn) bool {
	tcp, ok := c.Conn().RemoteAddr().(*net.TCPAddr)
	if !ok {
		return false
	}
	ip, _ := netip.AddrFromSlice(tcp.IP)
	ip = ip.Unmap()
	for _, p := range s.opts.IdempotencyPeers {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// keyedID is the message id of a keyed transaction, from which the router
// derives each copy's delivery id ("id/account"): the same key gives the
// same ids, so the store's delivery-id constraint turns a replay into a
// no-op that still answers 250. Hashing keeps the key's characters out of
// trace headers and ids, and the "lmtp-" prefix apart from queue ids.
func keyedID(key string) string {
	sum := sha256.Sum256([]byte("rookery lmtp envid\x00" + key))
	return "lmtp-" + hex.EncodeToString(sum[:12])
}
