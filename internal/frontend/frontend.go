// Package frontend is the client side of a cluster front end
// (cluster-research §7.6): it connects to the back-end node serving a
// user's mail and logs in there on the user's behalf, so that an IMAP or
// POP3 session can then splice the client's bytes to it. On the
// connection it first sends a PROXY v2 header with the client's address,
// then logs in with SASL PLAIN: authorization identity the user,
// authentication identity config.ProxyIdentity, password the cluster
// secret (as Cyrus proxyservers and Dovecot master users).
package frontend

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/netserve"
	"github.com/rookery-mail/rookery/internal/proxyproto"
)

// ErrNotHere is a back end's answer that it does not serve the user's
// store (any more): the route was stale. Dialer retries once with a fresh
// route before returning it.
var ErrNotHere = errors.New("frontend: back end does not serve this user")

// DefaultTimeout bounds connecting and logging in to a back end.
const DefaultTimeout = 5 * time.Second

// maxLine bounds a back-end reply line during login.
const maxLine = 8192

// Dialer logs in to back ends. The zero value is not usable: Secret is required.
type Dialer struct {
	// Secret is the cluster secret (config.Cluster.Secret).
	Secret string
	// Source is the local address of internal connections
	// (cluster.advertise when it is an IP), so back ends see this node's
	// address among their cluster.peers; the zero Addr lets the system choose.
	Source netip.Addr
	// Timeout bounds connect plus login; 0 means DefaultTimeout.
	Timeout time.Duration
}

// Target is a back end: the serving node's name (for logs) and the
// host:port of its IMAP or POP3 listener.
type Target struct {
	Node, Addr string
}

// Resolve says where a user's session goes; fresh skips any cached
// answer (after a back end said "not here").
type Resolve func(ctx context.Context, fresh bool) (Target, error)

// Client is the connection being proxied: the client's address and the
// address it connected to, both passed on in the PROXY header.
type Client struct {
	Remote, Local net.Addr
}

// Session is a back-end connection logged in as the user, positioned
// after the back end's successful login reply.
type Session struct {
	net.Conn
	Node string
	// Capability is an IMAP back end's capability list after login (the
	// content of its [CAPABILITY ...] code); empty for POP3.
	Capability string
}

// login speaks one protocol's login on a fresh connection.
type login func(br *bufio.Reader, c net.Conn, user string) (capability string, err error)

// errConnect marks a failure to connect: the route may name a node that
// died since, so it is worth one fresh look, like ErrNotHere.
var errConnect = errors.New("connect")

// dial resolves the target, connects and logs in; when the back end says
// "not here", or cannot be reached, it resolves again, fresh, and tries
// exactly once more (for an unreachable node, only if the fresh route
// names another address).
func (d *Dialer) dial(ctx context.Context, resolve Resolve, user string, client Client, proto login) (*Session, error) {
	t, err := resolve(ctx, false)
	if err != nil {
		return nil, err
	}
	s, err := d.once(ctx, t, user, client, proto)
	if !errors.Is(err, ErrNotHere) && !errors.Is(err, errConnect) {
		return s, err
	}
	t2, rerr := resolve(ctx, true)
	if rerr != nil {
		return nil, fmt.Errorf("%w; resolving again: %w", err, rerr)
	}
	if errors.Is(err, errConnect) && t2.Addr == t.Addr {
		return nil, err
	}
	return d.once(ctx, t2, user, client, proto)
}

func (d *Dialer) once(ctx context.Context, t Target, user string, client Client, proto login) (*Session, error) {
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nd := net.Dialer{}
	if d.Source.IsValid() {
		nd.LocalAddr = &net.TCPAddr{IP: d.Source.AsSlice()}
	}
	c, err := nd.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return nil, fmt.Errorf("back end %s (%s): %w: %w", t.Node, t.Addr, errConnect, err)
	}
	deadline, _ := ctx.Deadline()
	c.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) }) // a cancelled client ends the login
	capability, err := d.handshake(c, user, client, proto)
	stop()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("back end %s (%s): %w", t.Node, t.Addr, err)
	}
	return &Session{Conn: c, Node: t.Node, Capability: capability}, nil
}

// handshake sends the PROXY header and logs in. A back end speaks only
// when spoken to after its login reply, so bytes past it mean the stream
// is not what we think and the connection is not used.
func (d *Dialer) handshake(c net.Conn, user string, client Client, proto login) (string, error) {
	if err := proxyproto.WriteV2Header(c, client.Remote, client.Local); err != nil {
		return "", err
	}
	br := bufio.NewReader(c)
	capability, err := proto(br, c, user)
	if err != nil {
		return "", err
	}
	if br.Buffered() > 0 {
		return "", errors.New("back end sent data after its login reply")
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		return "", err
	}
	return capability, nil
}

// plain is the SASL PLAIN response (RFC 4616 §2) for a proxy login:
// authorize as user, authenticate as the cluster's proxy identity.
func (d *Dialer) plain(user string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + "\x00" + config.ProxyIdentity + "\x00" + d.Secret))
}

func readLine(br *bufio.Reader) (string, error) {
	line, err := netserve.ReadLine(br, maxLine)
	if err != nil {
		return "", fmt.Errorf("read reply: %w", err)
	}
	return string(line), nil
}
