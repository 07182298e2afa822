// Package dnstest is a tiny authoritative DNS server for tests: it answers
// MX, A, AAAA and TXT queries from a record table on 127.0.0.1 over UDP and
// TCP, so code that resolves mail routes, SPF or DKIM keys can be tested
// against real DNS traffic without the network.
package dnstest

import (
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// MX is one mail exchanger of a domain.
type MX struct {
	Pref uint16
	Host string
}

// Records is a record table keyed by domain name (case-insensitive, with or
// without the trailing dot). A name exists, for NXDOMAIN purposes, when it
// has at least one record of any type or is marked ServFail.
type Records struct {
	MX map[string][]MX
	// A holds addresses; IPv4 ones answer A queries, IPv6 ones AAAA.
	A map[string][]string
	// TXT holds one string per record; strings longer than 255 bytes are
	// split into character-strings as RFC 1035 §3.3.14 requires.
	TXT map[string][]string
}

// Server is a running test DNS server. Its methods are safe for concurrent
// use, so records may change while a test's code is resolving.
type Server struct {
	// Addr is the host:port to query, the same for UDP and TCP.
	Addr string

	mu       sync.RWMutex
	mx       map[string][]MX
	ips      map[string][]net.IP
	txt      map[string][]string
	servfail map[string]bool
	queries  int
}

// Start serves recs on 127.0.0.1 (UDP and TCP on one port) until the test
// ends.
func Start(t testing.TB, recs Records) *Server {
	t.Helper()
	s := &Server{}
	s.Set(recs)
	pc, l, err := listen()
	if err != nil {
		t.Fatalf("dnstest: %v", err)
	}
	s.Addr = pc.LocalAddr().String()
	udp := &dns.Server{PacketConn: pc, Handler: s}
	tcp := &dns.Server{Listener: l, Handler: s}
	for _, srv := range []*dns.Server{udp, tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
	}
	t.Cleanup(func() {
		udp.Shutdown()
		tcp.Shutdown()
	})
	return s
}

// listen opens UDP and TCP on the same free loopback port.
func listen() (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, l, nil
		}
		pc.Close()
		lastErr = err
	}
	return nil, nil, fmt.Errorf("no free port for UDP and TCP: %w", lastErr)
}

func key(name string) string { return dns.CanonicalName(name) }

// Set replaces every record (and clears ServFail marks) with recs.
func (s *Server) Set(recs Records) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mx, s.ips, s.txt = map[string][]MX{}, map[string][]net.IP{}, map[string][]string{}
	s.servfail = map[string]bool{}
	for n, v := range recs.MX {
		s.mx[key(n)] = slices.Clone(v)
	}
	for n, v := range recs.A {
		s.ips[key(n)] = parseIPs(v)
	}
	for n, v := range recs.TXT {
		s.txt[key(n)] = slices.Clone(v)
	}
}

func parseIPs(ss []string) []net.IP {
	var ips []net.IP
	for _, v := range ss {
		ip := net.ParseIP(v)
		if ip == nil {
			panic("dnstest: bad IP address " + v)
		}
		ips = append(ips, ip)
	}
	return ips
}

// SetMX replaces name's MX records; none removes them.
func (s *Server) SetMX(name string, mx ...MX) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mx[key(name)] = slices.Clone(mx)
}

// SetA replaces name's A and AAAA records; none removes them.
func (s *Server) SetA(name string, ips ...string) {
	p := parseIPs(ips)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ips[key(name)] = p
}

// SetTXT replaces name's TXT records; none removes them.
func (s *Server) SetTXT(name string, txt ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txt[key(name)] = slices.Clone(txt)
}

// ServFail makes every query for name answer SERVFAIL (on) or answer from
// the table again (off), to test temporary DNS failures.
func (s *Server) ServFail(name string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.servfail[key(name)] = on
}

// Queries returns how many queries the server has answered.
func (s *Server) Queries() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.queries
}

// ServeDNS answers one query from the table.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.Authoritative = true
	if len(req.Question) == 1 {
		s.answer(resp, req.Question[0])
	} else {
		resp.Rcode = dns.RcodeFormatError
	}
	// RFC 1035 §4.2.1, RFC 6891 §6.2.5: a UDP answer larger than the
	// client's buffer is truncated with TC set, so the client retries on TCP.
	if _, udp := w.LocalAddr().(*net.UDPAddr); udp {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
		}
		resp.Truncate(size)
	}
	w.WriteMsg(resp)
}

func (s *Server) answer(resp *dns.Msg, q dns.Question) {
	name := key(q.Name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries++
	if s.servfail[name] {
		resp.Rcode = dns.RcodeServerFailure
		return
	}
	mxs, ips, txts := s.mx[name], s.ips[name], s.txt[name]
	if len(mxs)+len(ips)+len(txts) == 0 {
		resp.Rcode = dns.RcodeNameError
		return
	}
	hdr := dns.RR_Header{Name: q.Name, Rrtype: q.Qtype, Class: dns.ClassINET, Ttl: 60}
	switch q.Qtype {
	case dns.TypeMX:
		for _, m := range mxs {
			resp.Answer = append(resp.Answer, &dns.MX{Hdr: hdr, Preference: m.Pref, Mx: dns.Fqdn(m.Host)})
		}
	case dns.TypeA, dns.TypeAAAA:
		for _, ip := range ips {
			if v4 := ip.To4(); v4 != nil && q.Qtype == dns.TypeA {
				resp.Answer = append(resp.Answer, &dns.A{Hdr: hdr, A: v4})
			} else if v4 == nil && q.Qtype == dns.TypeAAAA {
				resp.Answer = append(resp.Answer, &dns.AAAA{Hdr: hdr, AAAA: ip})
			}
		}
	case dns.TypeTXT:
		for _, t := range txts {
			resp.Answer = append(resp.Answer, &dns.TXT{Hdr: hdr, Txt: chunks(t)})
		}
	}
}

// chunks splits s into character-strings of at most 255 bytes.
func chunks(s string) []string {
	var out []string
	for len(s) > 255 {
		out = append(out, s[:255])
		s = s[255:]
	}
	return append(out, s)
}

// String helps in test failure messages.
func (s *Server) String() string { return "dnstest@" + s.Addr }
