package frontend

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
)

// imapNotHere is the tagged reply of a back end that does not serve the
// user (internal/imap answers it to a proxy login).
const imapNotHere = "NO [UNAVAILABLE] not here"

// IMAP connects to the IMAP back end resolve names and logs in as user.
// Session.Capability is what the back end announces after login, for the
// front end's own tagged OK.
func (d *Dialer) IMAP(ctx context.Context, resolve Resolve, user string, client Client) (*Session, error) {
	return d.dial(ctx, resolve, user, client, d.imapLogin)
}

// imapLogin: greeting, AUTHENTICATE PLAIN (RFC 3501 §6.2.2) with an
// initial response when the back end offers SASL-IR (RFC 4959).
func (d *Dialer) imapLogin(br *bufio.Reader, c net.Conn, user string) (string, error) {
	greeting, err := readLine(br)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(greeting, "* OK") {
		return "", fmt.Errorf("greeting %q", greeting)
	}
	caps, ok := capabilityCode(greeting[len("* OK"):])
	if !ok {
		if caps, err = imapCapability(br, c); err != nil {
			return "", err
		}
	}
	if slices.Contains(strings.Fields(strings.ToUpper(caps)), "SASL-IR") {
		_, err = fmt.Fprintf(c, "P1 AUTHENTICATE PLAIN %s\r\n", d.plain(user))
	} else {
		_, err = fmt.Fprintf(c, "P1 AUTHENTICATE PLAIN\r\n")
	}
	if err != nil {
		return "", err
	}
	for {
		line, err := readLine(br)
		if err != nil {
			return "", err
		}
		switch {
		case strings.HasPrefix(line, "+"):
			if _, err := fmt.Fprintf(c, "%s\r\n", d.plain(user)); err != nil {
				return "", err
			}
		case strings.HasPrefix(line, "P1 OK"):
			if caps, ok := capabilityCode(line[len("P1 OK"):]); ok {
				return caps, nil
			}
			return imapCapability(br, c)
		case line == "P1 "+imapNotHere:
			return "", ErrNotHere
		case strings.HasPrefix(line, "P1 "):
			return "", fmt.Errorf("login refused: %q", line)
		} // untagged responses before the tagged one are skipped
	}
}

// imapCapability asks for the capability list (RFC 3501 §6.1.1).
func imapCapability(br *bufio.Reader, c net.Conn) (string, error) {
	if _, err := fmt.Fprintf(c, "P0 CAPABILITY\r\n"); err != nil {
		return "", err
	}
	var caps string
	for {
		line, err := readLine(br)
		if err != nil {
			return "", err
		}
		if rest, ok := strings.CutPrefix(line, "* CAPABILITY "); ok {
			caps = rest
		} else if strings.HasPrefix(line, "P0 ") {
			if !strings.HasPrefix(line, "P0 OK") || caps == "" {
				return "", fmt.Errorf("CAPABILITY: %q", line)
			}
			return caps, nil
		}
	}
}

// capabilityCode finds "[CAPABILITY ...]" at the start of a response's
// text (after "OK").
func capabilityCode(text string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimLeft(text, " "), "[CAPABILITY ")
	if !ok {
		return "", false
	}
	caps, _, ok := strings.Cut(rest, "]")
	return caps, ok
}
