package outbound

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/rookery-mail/rookery/internal/dnstest"
)

func TestResolver(t *testing.T) {
	long := strings.Repeat("p", 700) // several character-strings, and TC over UDP
	dns := dnstest.Start(t, dnstest.Records{
		MX:  map[string][]dnstest.MX{"example.test": {{Pref: 20, Host: "b.example.test"}, {Pref: 10, Host: "a.example.test"}}},
		A:   map[string][]string{"a.example.test": {"127.0.0.1", "::1"}},
		TXT: map[string][]string{"sel._domainkey.example.test": {"v=DKIM1; p=" + long, "second"}},
	})
	dns.ServFail("broken.test", true)
	r := NewResolver(dns.Addr)
	ctx := t.Context()

	mx, err := r.LookupMX(ctx, "example.test")
	if err != nil || len(mx) != 2 || mx[0].Host != "b.example.test" || mx[1].Pref != 10 {
		t.Fatalf("MX: %v %v", mx, err)
	}
	ips, err := r.LookupIP(ctx, "a.example.test")
	if err != nil || len(ips) != 2 || !ips[0].Equal(net.IPv4(127, 0, 0, 1)) || !ips[1].Equal(net.IPv6loopback) {
		t.Fatalf("IP: %v %v", ips, err)
	}
	txt, err := r.LookupTXT(ctx, "sel._domainkey.example.test")
	if err != nil || len(txt) != 2 || txt[0] != "v=DKIM1; p="+long || txt[1] != "second" {
		t.Fatalf("TXT: %d %v", len(txt), err)
	}

	for _, tc := range []struct {
		name   string
		lookup func(context.Context, string) error
		target error
	}{
		{"nowhere.test", mxErr(r), ErrNotFound},                     // NXDOMAIN
		{"a.example.test", mxErr(r), ErrNotFound},                   // exists, no MX
		{"example.test", ipErr(r), ErrNotFound},                     // exists, no address
		{"example.test", txtErr(r), ErrNotFound},                    // exists, no TXT
		{"broken.test", mxErr(r), ErrTemporary},                     // SERVFAIL
		{"broken.test", ipErr(r), ErrTemporary},                     // SERVFAIL
		{"broken.test", txtErr(r), ErrTemporary},                    // SERVFAIL
		{"x.test", mxErr(NewResolver("127.0.0.1:1")), ErrTemporary}, // no server
	} {
		if err := tc.lookup(ctx, tc.name); !errors.Is(err, tc.target) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.target)
		}
	}
}

func mxErr(r Resolver) func(context.Context, string) error {
	return func(ctx context.Context, n string) error { _, err := r.LookupMX(ctx, n); return err }
}
func ipErr(r Resolver) func(context.Context, string) error {
	return func(ctx context.Context, n string) error { _, err := r.LookupIP(ctx, n); return err }
}
func txtErr(r Resolver) func(context.Context, string) error {
	return func(ctx context.Context, n string) error { _, err := r.LookupTXT(ctx, n); return err }
}

func TestSystemResolverErrors(t *testing.T) {
	if err := sysErr(&net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if err := sysErr(&net.DNSError{Err: "server misbehaving", Name: "x", IsTemporary: true}); !errors.Is(err, ErrTemporary) {
		t.Fatal(err)
	}
	if sysErr(nil) != nil {
		t.Fatal("nil error mapped")
	}
}

func TestLimiter(t *testing.T) {
	l := newLimiter(1, 1)
	release, err := l.acquire(t.Context(), "a.test")
	if err != nil {
		t.Fatal(err)
	}
	// The global slot is taken: another domain waits until its context ends.
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { _, err := l.acquire(ctx, "b.test"); done <- err }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("waiter: %v", err)
	}
	release()
	release, err = l.acquire(t.Context(), "b.test")
	if err != nil {
		t.Fatal(err)
	}
	release()
	if len(l.domains) != 0 {
		t.Fatalf("domain slots left: %v", l.domains)
	}
}
