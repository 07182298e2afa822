package s3blob

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/blob"
	"github.com/rookery-mail/rookery/internal/testsvc"
)

// proxy forwards TCP connections to the S3 server until told to refuse
// (close its port) or to hang (accept and never answer), the two ways a
// store goes down.
type proxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	hang   bool
	conns  []net.Conn
	// sent counts bytes forwarded to the server; onSent, if not nil, is
	// called with the running total.
	sent   atomic.Int64
	onSent func(total int64)
}

func newProxy(t *testing.T, target string, onSent func(total int64)) *proxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target, onSent: onSent}
	go p.serve()
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) addr() string { return p.l.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns = append(p.conns, c)
		hang := p.hang
		p.mu.Unlock()
		if hang {
			continue // held open, never answered
		}
		go func() {
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, s)
			p.mu.Unlock()
			go io.Copy(sentCounter{s, p}, c)
			io.Copy(c, s)
			c.Close()
			s.Close()
		}()
	}
}

type sentCounter struct {
	w io.Writer
	p *proxy
}

func (c sentCounter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	total := c.p.sent.Add(int64(n))
	if c.p.onSent != nil {
		c.p.onSent(total)
	}
	return n, err
}

// dropConns closes every connection so far; hang makes later ones hang.
func (p *proxy) dropConns(hang bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hang = hang
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) stop() {
	p.l.Close()
	p.dropConns(false)
}

// TestDownServer: when the S3 server goes away or stops answering, every
// operation fails within seconds (bounded retries and timeouts), so SMTP can
// answer 4xx instead of holding the client until it gives up.
func TestDownServer(t *testing.T) {
	endpoint, bucket, ak, sk := testsvc.S3(t)
	const limit = 10 * time.Second
	ops := map[string]func(context.Context, *Store) error{
		"Put": func(ctx context.Context, s *Store) error {
			_, _, err := s.Put(ctx, strings.NewReader("a body"))
			return err
		},
		"PutLarge": func(ctx context.Context, s *Store) error {
			_, _, err := s.Put(ctx, io.LimitReader(pattern{}, 3<<20))
			return err
		},
		"PutKeyLarge": func(ctx context.Context, s *Store) error {
			_, err := s.PutKey(ctx, "large", io.LimitReader(pattern{}, 8<<20))
			return err
		},
		"Open": func(ctx context.Context, s *Store) error {
			rc, err := s.Open(ctx, blob.ID([]byte("a body")))
			if err == nil {
				rc.Close()
			}
			return err
		},
		"PutKey": func(ctx context.Context, s *Store) error {
			_, err := s.PutKey(ctx, "k", strings.NewReader("a body"))
			return err
		},
		"Delete": func(ctx context.Context, s *Store) error { return s.Delete(ctx, blob.ID([]byte("a body"))) },
	}
	for _, mode := range []string{"refused", "hanging"} {
		t.Run(mode, func(t *testing.T) {
			p := newProxy(t, endpoint, nil)
			var attempts countHandler
			cfg := Config{
				Endpoint: p.addr(), Region: "us-east-1", AccessKey: ak, SecretKey: sk, Bucket: bucket,
				SpoolDir: t.TempDir(), ResponseTimeout: time.Second, Logger: slog.New(&attempts),
			}
			s, err := Open(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if mode == "refused" {
				p.stop()
			} else {
				p.dropConns(true)
			}
			var wg sync.WaitGroup
			for name, op := range ops {
				wg.Go(func() {
					start := time.Now()
					err := op(context.Background(), s)
					took := time.Since(start)
					if err == nil || errors.Is(err, blob.ErrNotFound) {
						t.Errorf("%s on a down server = %v, want an error", name, err)
					}
					if took > limit {
						t.Errorf("%s took %v to fail, want under %v", name, took, limit)
					}
					t.Logf("%s failed in %v: %v", name, took.Round(time.Millisecond), err)
				})
			}
			wg.Wait()
			// Each operation's one request was tried MaxRetries (3) times.
			if got, want := attempts.n.Load(), int64(3*len(ops)); got != want {
				t.Errorf("%d failed attempts logged, want %d", got, want)
			}
			start := time.Now()
			if _, err := Open(context.Background(), cfg); err == nil || time.Since(start) > limit {
				t.Errorf("Open on a down server = %v after %v", err, time.Since(start))
			}
		})
	}
}

// countHandler counts log records.
type countHandler struct{ n atomic.Int64 }

func (h *countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countHandler) Handle(context.Context, slog.Record) error {
	h.n.Add(1)
	return nil
}
func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countHandler) WithGroup(string) slog.Handler      { return h }

// TestCanceledMidUpload: a Put canceled while its body is on the wire
// fails with context.Canceled and leaves nothing readable, not even a
// truncated object at the blob's address.
func TestCanceledMidUpload(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const size = 20 << 20
	p := newProxy(t, e.endpoint, func(total int64) {
		if total > size/2 { // half the body is on the wire
			cancel()
		}
	})
	s, err := Open(ctx, Config{
		Endpoint: p.addr(), Region: "us-east-1", AccessKey: e.ak, SecretKey: e.sk, Bucket: e.bucket,
		Prefix: testPrefix, SpoolDir: e.spoolDir,
	})
	if err != nil {
		t.Fatal(err)
	}
	body := io.LimitReader(pattern{}, size)
	_, _, err = s.Put(ctx, body)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "Put ") {
		t.Fatalf("Put canceled mid-upload = %v, want context.Canceled from the PUT", err)
	}
	h := blob.NewHasher()
	io.Copy(h, io.LimitReader(pattern{}, size))
	// A later request through the same server, so the aborted one is done.
	if _, _, err := e.s.Put(context.Background(), strings.NewReader("later")); err != nil {
		t.Fatal(err)
	}
	if rc, err := e.s.Open(context.Background(), h.ID()); !errors.Is(err, blob.ErrNotFound) {
		if rc != nil {
			rc.Close()
		}
		t.Errorf("Open after a canceled Put = %v, want ErrNotFound", err)
	}
	e.assertClean(t)
}

// TestWriteDeadlineIsPerStall: ResponseTimeout bounds a stall in sending,
// not a whole upload: writes to a peer that keeps reading, slowly, succeed
// for longer than the timeout, and fail once the peer stops. (Through a
// real socket the kernel's buffers hide the pace, so net.Pipe, which has
// none, shows it.)
func TestWriteDeadlineIsPerStall(t *testing.T) {
	const timeout = 200 * time.Millisecond
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	c := writeDeadlineConn{client, timeout}
	stop := make(chan struct{})
	go func() {
		buf := make([]byte, 1024)
		for {
			select {
			case <-stop:
				return // stops reading: the peer stalls
			case <-time.After(timeout / 10):
			}
			if _, err := server.Read(buf); err != nil {
				return
			}
		}
	}()
	start := time.Now()
	for time.Since(start) < 3*timeout {
		if _, err := c.Write(make([]byte, 1024)); err != nil {
			t.Fatalf("write to a slow but moving peer after %v: %v", time.Since(start), err)
		}
	}
	close(stop)
	stalled := time.Now()
	_, err := c.Write(make([]byte, 1024))
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("write to a stalled peer = %v, want a timeout", err)
	}
	if took := time.Since(stalled); took > 10*timeout {
		t.Errorf("the stalled write failed after %v, want about %v", took, timeout)
	}
}
