package accept

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rookery-mail/rookery/internal/netserve"
)

// Listener is the go-smtp server of one SMTP role, with the lifecycle and
// protocol settings the roles share.
type Listener struct {
	srv *smtp.Server
}

// ListenerOptions are the settings that differ between roles.
type ListenerOptions struct {
	Hostname          string
	TLSConfig         *tls.Config
	AllowInsecureAuth bool
	LMTP              bool
	MaxMessageSize    int64
	MaxRecipients     int
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	Logger            *slog.Logger
	// DSN offers RFC 3461's parameters on an LMTP listener too (MX and
	// submission always offer them): Rookery peers send ENVID as an
	// idempotency key.
	DSN bool
}

// NewListener builds the server for a role's backend: SMTPUTF8, 8BITMIME,
// PIPELINING, REQUIRETLS and DSN parameters, and MaxLineLength.
func NewListener(be smtp.Backend, o ListenerOptions) *Listener {
	srv := smtp.NewServer(greeted(be))
	srv.LMTP = o.LMTP
	srv.Domain = o.Hostname
	srv.TLSConfig = o.TLSConfig
	srv.AllowInsecureAuth = o.AllowInsecureAuth
	srv.MaxMessageBytes = o.MaxMessageSize
	srv.MaxRecipients = o.MaxRecipients
	srv.MaxLineLength = MaxLineLength
	srv.ReadTimeout = o.ReadTimeout
	srv.WriteTimeout = o.WriteTimeout
	srv.EnableSMTPUTF8 = true
	if !o.LMTP {
		srv.EnableREQUIRETLS = true
	}
	srv.EnableDSN = !o.LMTP || o.DSN
	if o.Logger != nil {
		srv.ErrorLog = slogAdapter{o.Logger}
	}
	return &Listener{srv: srv}
}

// Serve accepts connections on l (a tls.Listener for implicit TLS) until
// Shutdown; it returns nil after Shutdown.
func (l *Listener) Serve(ln net.Listener) error {
	if err := l.srv.Serve(ln); !errors.Is(err, smtp.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting and waits for sessions to end or ctx to expire.
// A transaction in DATA finishes its commit first: the queue waits for it.
func (l *Listener) Shutdown(ctx context.Context) error {
	if err := l.srv.Shutdown(ctx); !errors.Is(err, smtp.ErrServerClosed) {
		return err
	}
	return nil
}

// greeted lifts the greeting timeout of a Limits listener's connection:
// go-smtp makes the session at the first EHLO, HELO or LHLO.
func greeted(be smtp.Backend) smtp.Backend {
	return smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		netserve.Greeted(c.Conn())
		return be.NewSession(c)
	})
}

// slogAdapter routes go-smtp's internal errors to the role's logger.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Printf(format string, v ...any) {
	a.l.Warn("smtp", "detail", fmt.Sprintf(format, v...))
}
func (a slogAdapter) Println(v ...any) { a.l.Warn("smtp", "detail", fmt.Sprint(v...)) }
