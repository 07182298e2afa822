package accept

import (
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-smtp"
)

// RFC 5321 §4.5.3.1 size limits, in octets. A path is the address with its
// angle brackets, so the address itself may have two octets less.
const (
	maxLocalPart = 64  // §4.5.3.1.1
	maxDomain    = 255 // §4.5.3.1.2
	maxPath      = 256 // §4.5.3.1.3
)

// CheckMail checks MAIL FROM before the role's own policy: the reverse
// path's syntax (the null path "" is allowed when nullOK) and that
// REQUIRETLS comes over TLS. RFC 8689 §4.1: REQUIRETLS asks for TLS on every
// hop, which a plaintext session already broke.
func CheckMail(conn *smtp.Conn, from string, opts *smtp.MailOptions, nullOK bool) error {
	if opts != nil && opts.RequireTLS {
		if _, isTLS := conn.TLSConnectionState(); !isTLS {
			return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 10}, Message: "REQUIRETLS needs a TLS session: use STARTTLS first"}
		}
	}
	if from == "" && nullOK {
		return nil
	}
	return checkAddress(from, opts != nil && opts.UTF8, smtp.EnhancedCode{5, 1, 7})
}

// CheckRcpt checks a RCPT TO address's syntax; utf8 is whether MAIL FROM
// had SMTPUTF8. The bare "Postmaster" of RFC 5321 §4.1.1.3 passes.
func CheckRcpt(to string, utf8 bool) error {
	if strings.EqualFold(to, "postmaster") {
		return nil
	}
	return checkAddress(to, utf8, smtp.EnhancedCode{5, 1, 3})
}

// checkAddress applies RFC 5321 §4.1.2 and §4.5.3.1 and RFC 6531 §3.3 to
// an address as go-smtp parsed it, with the quotes of a quoted local part
// removed. A local part that is not a dot-string can only have come quoted;
// this system does not support those (it cannot store or compare them
// reliably), and says so. ec is X.1.7 for a sender, X.1.3 for a recipient.
func checkAddress(addr string, smtputf8 bool, ec smtp.EnhancedCode) error {
	syntax := func(code int, msg string) error {
		return &smtp.SMTPError{Code: code, EnhancedCode: ec, Message: msg}
	}
	if !utf8.ValidString(addr) {
		return syntax(553, "Address is not valid UTF-8")
	}
	if !smtputf8 && !isASCII(addr) {
		// RFC 6531 §3.6.1 (with RFC 6533's X.6.7).
		return &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 6, 7}, Message: "Non-ASCII address needs the SMTPUTF8 parameter"}
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return syntax(553, "Address must be local-part@domain")
	}
	local, domain := addr[:at], addr[at+1:]
	switch {
	case len(local) > maxLocalPart:
		return syntax(501, "Local part too long (RFC 5321 limits it to 64 octets)")
	case len(domain) > maxDomain:
		return syntax(501, "Domain too long (RFC 5321 limits it to 255 octets)")
	case len(addr)+2 > maxPath:
		return syntax(501, "Path too long (RFC 5321 limits it to 256 octets)")
	case !isDotString(local):
		return syntax(553, "Quoted local parts and special characters in the local part are not supported")
	case !isDomain(domain):
		return syntax(553, "Malformed domain")
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isDotString reports whether s is a Dot-string of RFC 5321 §4.1.2 (atext
// and dots, RFC 5322 §3.2.3), UTF-8 allowed (RFC 6531 §3.3). Leading,
// trailing and doubled dots are tolerated, as Postfix does: old systems
// still send them.
func isDotString(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < utf8.RuneSelf && !isAtext(byte(r)) && r != '.' {
			return false
		}
	}
	return true
}

func isAtext(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// isDomain accepts a host name (letters, digits, hyphens, dots; U-labels
// under SMTPUTF8) or an address literal in brackets (RFC 5321 §4.1.3).
func isDomain(d string) bool {
	if d == "" {
		return false
	}
	if d[0] == '[' {
		return d[len(d)-1] == ']' && len(d) > 2 && !strings.ContainsAny(d[1:len(d)-1], "[]\\ ")
	}
	for _, r := range d {
		ok := r >= utf8.RuneSelf || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}
