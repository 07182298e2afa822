package dnstest

import (
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

func query(t *testing.T, s *Server, network, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Net: network}
	r, _, err := c.Exchange(m, s.Addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", network, name, dns.TypeToString[qtype], err)
	}
	return r
}

func TestRecords(t *testing.T) {
	s := Start(t, Records{
		MX:  map[string][]MX{"Example.test": {{10, "mx1.example.test"}, {20, "mx2.example.test."}}},
		A:   map[string][]string{"mx1.example.test": {"127.0.0.2", "::1"}},
		TXT: map[string][]string{"example.test": {"v=spf1 -all"}},
	})
	for _, network := range []string{"udp", "tcp"} {
		r := query(t, s, network, "example.TEST", dns.TypeMX)
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 2 || r.Answer[0].(*dns.MX).Mx != "mx1.example.test." {
			t.Fatalf("%s MX: %v", network, r)
		}
		if r := query(t, s, network, "mx1.example.test", dns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "127.0.0.2" {
			t.Fatalf("%s A: %v", network, r)
		}
		if r := query(t, s, network, "mx1.example.test", dns.TypeAAAA); len(r.Answer) != 1 || r.Answer[0].(*dns.AAAA).AAAA.String() != "::1" {
			t.Fatalf("%s AAAA: %v", network, r)
		}
		if r := query(t, s, network, "example.test", dns.TypeTXT); len(r.Answer) != 1 || r.Answer[0].(*dns.TXT).Txt[0] != "v=spf1 -all" {
			t.Fatalf("%s TXT: %v", network, r)
		}
	}
}

func TestNXDomainAndNoData(t *testing.T) {
	s := Start(t, Records{A: map[string][]string{"host.test": {"127.0.0.1"}}})
	if r := query(t, s, "udp", "nope.test", dns.TypeA); r.Rcode != dns.RcodeNameError {
		t.Fatalf("unknown name: rcode %s", dns.RcodeToString[r.Rcode])
	}
	// A name with other records exists: NOERROR with an empty answer.
	if r := query(t, s, "udp", "host.test", dns.TypeMX); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
		t.Fatalf("no data: %v", r)
	}
}

func TestServFailAndChanges(t *testing.T) {
	s := Start(t, Records{})
	s.SetTXT("sel._domainkey.example.test", "v=DKIM1; p=abc")
	if r := query(t, s, "udp", "sel._domainkey.example.test", dns.TypeTXT); len(r.Answer) != 1 {
		t.Fatalf("after SetTXT: %v", r)
	}
	s.ServFail("sel._domainkey.example.test", true)
	if r := query(t, s, "udp", "sel._domainkey.example.test", dns.TypeTXT); r.Rcode != dns.RcodeServerFailure {
		t.Fatalf("servfail: rcode %s", dns.RcodeToString[r.Rcode])
	}
	s.ServFail("sel._domainkey.example.test", false)
	s.SetTXT("sel._domainkey.example.test")
	if r := query(t, s, "udp", "sel._domainkey.example.test", dns.TypeTXT); r.Rcode != dns.RcodeNameError {
		t.Fatalf("after removal: rcode %s", dns.RcodeToString[r.Rcode])
	}
	s.Set(Records{MX: map[string][]MX{"a.test": {{0, "."}}}})
	if r := query(t, s, "tcp", "a.test", dns.TypeMX); len(r.Answer) != 1 || r.Answer[0].(*dns.MX).Mx != "." {
		t.Fatalf("null MX: %v", r)
	}
	if s.Queries() != 4 {
		t.Fatalf("queries = %d, want 4", s.Queries())
	}
}

// A long DKIM key is split into 255-byte strings, and an answer too big for
// UDP comes back truncated so the client retries on TCP.
func TestLongTXTAndTruncation(t *testing.T) {
	long := strings.Repeat("k", 600)
	var many []string
	for range 10 {
		many = append(many, long)
	}
	s := Start(t, Records{TXT: map[string][]string{"one.test": {long}, "many.test": many}})
	r := query(t, s, "tcp", "one.test", dns.TypeTXT)
	if txt := r.Answer[0].(*dns.TXT).Txt; len(txt) != 3 || strings.Join(txt, "") != long {
		t.Fatalf("chunks: %d", len(txt))
	}
	if r := query(t, s, "udp", "many.test", dns.TypeTXT); !r.Truncated {
		t.Fatal("big UDP answer not truncated")
	}
	if r := query(t, s, "tcp", "many.test", dns.TypeTXT); r.Truncated || len(r.Answer) != 10 {
		t.Fatalf("tcp: truncated=%v answers=%d", r.Truncated, len(r.Answer))
	}
}

func TestConcurrentChanges(t *testing.T) {
	s := Start(t, Records{})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 20 {
				s.SetA("h.test", "127.0.0.1")
				query(t, s, "udp", "h.test", dns.TypeA)
				s.ServFail("h.test", i%2 == 0)
			}
		})
	}
	wg.Wait()
}
