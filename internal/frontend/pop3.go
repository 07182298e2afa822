package frontend

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
)

// pop3NotHere is the reply of a back end that does not serve the user
// (internal/pop3 answers it to a proxy login).
const pop3NotHere = "-ERR [SYS/TEMP] not here"

// POP3 connects to the POP3 back end resolve names and logs in as user.
func (d *Dialer) POP3(ctx context.Context, resolve Resolve, user string, client Client) (*Session, error) {
	return d.dial(ctx, resolve, user, client, d.pop3Login)
}

// pop3Login: greeting, then AUTH PLAIN with an initial response (RFC 5034 §4).
func (d *Dialer) pop3Login(br *bufio.Reader, c net.Conn, user string) (string, error) {
	greeting, err := readLine(br)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(greeting, "+OK") {
		return "", fmt.Errorf("greeting %q", greeting)
	}
	if _, err := fmt.Fprintf(c, "AUTH PLAIN %s\r\n", d.plain(user)); err != nil {
		return "", err
	}
	line, err := readLine(br)
	switch {
	case err != nil:
		return "", err
	case strings.HasPrefix(line, "+OK"):
		return "", nil
	case line == pop3NotHere:
		return "", ErrNotHere
	}
	return "", fmt.Errorf("login refused: %q", line)
}
