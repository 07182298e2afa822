package admin

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/directory/sqlitedir"
	"github.com/rookery-mail/rookery/internal/dkim"
)

// dkimKeys reads a domain's keys straight from the directory file.
func dkimKeys(t *testing.T, path, domain string) []directory.DKIMKey {
	t.Helper()
	d, err := sqlitedir.Open(t.Context(), path, sqlitedir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	keys, err := d.DKIMKeys(t.Context(), domain)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// fixedNow is the clock of the DKIM tests, so selectors are known.
func fixedNow() time.Time { return time.Date(2026, 11, 27, 18, 0, 0, 0, time.UTC) }

// "domain add" stores one RSA and one Ed25519 key with dated selectors, and
// "domain del" removes them with the domain.
func TestDomainAddGeneratesDKIMKeys(t *testing.T) {
	open, path := opener(t)
	env := Env{Directory: open, Now: fixedNow}
	transcriptEnv(t, env, `
		$ domain add Example.TEST
		added domain example.test
	`)
	keys := dkimKeys(t, path, "example.test")
	got := map[string]string{}
	for _, k := range keys {
		got[k.Selector] = k.Algorithm
		if !k.Created.Equal(fixedNow()) {
			t.Errorf("key %s created %v, want %v", k.Selector, k.Created, fixedNow())
		}
	}
	if len(keys) != 2 || got["rk2026r"] != directory.DKIMRSA || got["rk2026e"] != directory.DKIMEd25519 {
		t.Errorf("DKIM keys %v, want rk2026r (rsa-sha256) and rk2026e (ed25519-sha256)", got)
	}
	transcriptEnv(t, env, `
		$ domain del example.test
		deleted domain example.test
		$ domain add example.test
		added domain example.test
	`)
	if keys2 := dkimKeys(t, path, "example.test"); len(keys2) != 2 || keys2[0].PrivateKeyPEM == keys[0].PrivateKeyPEM {
		t.Errorf("after del and add: %d keys, reused: %v; want 2 new keys", len(keys2), len(keys2) > 0 && keys2[0].PrivateKeyPEM == keys[0].PrivateKeyPEM)
	}
}

// wantZone is the output of "domain dns" for example.test with mail host
// mx.example.test; DKIM stands for the DKIM lines, which carry random keys.
const wantZone = `; DNS records for example.test with mail host mx.example.test
; Mail exchanger (RFC 5321 §5.1); SPF (RFC 7208): only the MX host sends.
example.test. IN MX 10 mx.example.test.
example.test. IN TXT "v=spf1 mx -all"
; DKIM public keys (RFC 6376 §3.6.2, RFC 8463 §4.2)
DKIM
; DMARC policy (RFC 7489 §6.3); reports go to postmaster
_dmarc.example.test. IN TXT "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.test"
; Client autoconfiguration: SRV (RFC 6186), implicit TLS first (RFC 8314 §5.1)
_submissions._tcp.example.test. IN SRV 0 1 465 mx.example.test.
_submission._tcp.example.test. IN SRV 10 1 587 mx.example.test.
_imaps._tcp.example.test. IN SRV 0 1 993 mx.example.test.
_imap._tcp.example.test. IN SRV 10 1 143 mx.example.test.
_pop3s._tcp.example.test. IN SRV 20 1 995 mx.example.test.
; Thunderbird autoconfig and Outlook autodiscover look up these names
autoconfig.example.test. IN CNAME mx.example.test.
autodiscover.example.test. IN CNAME mx.example.test.
`

// zoneFor is wantZone with the DKIM lines of keys and host in place of
// mx.example.test.
func zoneFor(t *testing.T, keys []directory.DKIMKey, host string) string {
	t.Helper()
	var lines []string
	for _, k := range keys {
		name, value, err := dkim.DNSRecord(k)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, name+". IN TXT "+quoteTXT(value))
	}
	if len(lines) == 0 {
		lines = []string{"; none: the domain has no DKIM keys, so its mail goes out unsigned"}
	}
	z := strings.Replace(wantZone, "DKIM\n", strings.Join(lines, "\n")+"\n", 1)
	return strings.ReplaceAll(z, "mx.example.test", host)
}

func TestWriteZone(t *testing.T) {
	keys, err := dkim.GenerateKeys("example.test", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	for _, keys := range [][]directory.DKIMKey{keys, nil} {
		var b bytes.Buffer
		if err := writeZone(&b, "example.test", "mx.example.test", keys); err != nil {
			t.Fatal(err)
		}
		if want := zoneFor(t, keys, "mx.example.test"); b.String() != want {
			t.Errorf("writeZone:\n%s\nwant\n%s", b.String(), want)
		}
	}
	// The RSA record is split; joined, the strings are the value again.
	var b bytes.Buffer
	if err := writeZone(&b, "example.test", "mx.example.test", keys[:1]); err != nil {
		t.Fatal(err)
	}
	_, value, _ := dkim.DNSRecord(keys[0])
	for line := range strings.SplitSeq(b.String(), "\n") {
		if strings.HasPrefix(line, "rk2026r._domainkey.example.test. IN TXT ") {
			strs := unquoteTXT(t, strings.TrimPrefix(line, "rk2026r._domainkey.example.test. IN TXT "))
			if len(strs) < 2 || strings.Join(strs, "") != value {
				t.Errorf("RSA record strings %q do not join to %q", strs, value)
			}
			return
		}
	}
	t.Errorf("no RSA DKIM record in\n%s", b.String())
}

// The whole command: a domain's records, the --hostname default and errors.
func TestDomainDNSCommand(t *testing.T) {
	if _, ok := findCommand([]string{"domain", "dns"}); !ok {
		t.Skip("domain dns is not dispatched yet: admin.go's commands list needs domainDNS")
	}
	open, path := opener(t)
	transcript(t, open, `
		$ domain add example.test
		added domain example.test
	`)
	keys := dkimKeys(t, path, "example.test")
	indent := func(s string) string { return strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n\t\t") }
	transcript(t, open, fmt.Sprintf(`
		$ domain dns example.test --hostname MX.example.test.
		%s
		$ domain dns Example.test
		%s
		$ domain dns nowhere.test
		! domain nowhere.test does not exist; add it with: rookery domain add nowhere.test
		$ domain dns example.test --hostname bad_host
		! invalid domain "bad_host": character '_' not allowed
		$ domain dns
		!usage domain dns: wrong number of arguments
	`, indent(zoneFor(t, keys, "mx.example.test")), indent(zoneFor(t, keys, "mail.example.test"))))
}

func TestQuoteTXT(t *testing.T) {
	long := strings.Repeat("a", 255) + strings.Repeat("b", 255) + "c"
	for _, c := range []struct{ in, want string }{
		{"", `""`},
		{"v=spf1 mx -all", `"v=spf1 mx -all"`},
		{`a"b\c`, `"a\"b\\c"`},
		{strings.Repeat("x", 255), `"` + strings.Repeat("x", 255) + `"`},
		{long, `"` + strings.Repeat("a", 255) + `" "` + strings.Repeat("b", 255) + `" "c"`},
	} {
		if got := quoteTXT(c.in); got != c.want {
			t.Errorf("quoteTXT(%.20q...) = %.40q..., want %.40q...", c.in, got, c.want)
		}
	}
}

// unquoteTXT parses the character-strings quoteTXT writes, checking that
// each fits RFC 1035's 255-byte limit.
func unquoteTXT(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	for s != "" {
		s = strings.TrimLeft(s, " ")
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			t.Fatalf("bad TXT strings %q: %v", s, err)
		}
		u, _ := strconv.Unquote(q)
		if len(u) > 255 {
			t.Errorf("TXT string of %d bytes", len(u))
		}
		out = append(out, u)
		s = s[len(q):]
	}
	return out
}

// An independent zone-file parser (miekg/dns) reads every record back, the
// DKIM TXT strings joining to the exact value.
func TestWriteZoneParses(t *testing.T) {
	keys, err := dkim.GenerateKeys("example.test", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := writeZone(&b, "example.test", "mx.example.test", keys); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, k := range keys {
		name, value, _ := dkim.DNSRecord(k)
		want[name+"."] = value
	}
	zp := dns.NewZoneParser(strings.NewReader(b.String()), "", "")
	zp.SetDefaultTTL(3600)
	count := map[uint16]int{}
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		count[rr.Header().Rrtype]++
		if txt, ok := rr.(*dns.TXT); ok {
			if v, isKey := want[txt.Hdr.Name]; isKey && strings.Join(txt.Txt, "") != v {
				t.Errorf("%s: TXT joins to %q, want %q", txt.Hdr.Name, strings.Join(txt.Txt, ""), v)
			}
		}
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("zone does not parse: %v\n%s", err, b.String())
	}
	wantCount := map[uint16]int{dns.TypeMX: 1, dns.TypeTXT: 4, dns.TypeSRV: 5, dns.TypeCNAME: 2}
	for typ, n := range wantCount {
		if count[typ] != n {
			t.Errorf("%d %s records, want %d", count[typ], dns.TypeToString[typ], n)
		}
	}
}

// "domain dkim" gives keys to a domain that predates them, and only to one.
func TestDomainDKIMCommand(t *testing.T) {
	if _, ok := findCommand([]string{"domain", "dkim"}); !ok {
		t.Skip("domain dkim is not dispatched yet: admin.go's commands list needs domainDKIM")
	}
	open, path := opener(t)
	d, err := sqlitedir.Open(t.Context(), path, sqlitedir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = d.AddDomain(t.Context(), "old.test") // as before DKIM: no keys
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	transcriptEnv(t, Env{Directory: open, Now: fixedNow}, `
		$ domain dkim old.test
		added DKIM key rk2026r rsa-sha256
		added DKIM key rk2026e ed25519-sha256
		$ domain dkim old.test
		! domain old.test already has DKIM keys; see rookery domain dns old.test
		$ domain dkim nowhere.test
		! domain nowhere.test does not exist; add it with: rookery domain add nowhere.test
	`)
	if keys := dkimKeys(t, path, "old.test"); len(keys) != 2 {
		t.Errorf("domain dkim stored %d keys, want 2", len(keys))
	}
}

// "domain add" warns on stderr when no postmaster is configured: mail to
// postmaster@ of the new domain would be refused (RFC 5321 §4.5.1).
func TestDomainAddWarnsWithoutPostmaster(t *testing.T) {
	open, _ := opener(t)
	for _, tc := range []struct {
		postmaster string
		warn       bool
	}{{"", true}, {"admin@example.test", false}} {
		var stdout, stderr bytes.Buffer
		env := Env{Directory: open, Stdout: &stdout, Stderr: &stderr, Now: fixedNow,
			Postmaster: func() string { return tc.postmaster }}
		name := "d" + strconv.FormatBool(tc.warn) + ".test"
		if err := Run(t.Context(), []string{"domain", "add", name}, env); err != nil {
			t.Fatal(err)
		}
		want := "warning: no postmaster configured, so mail to postmaster@" + name
		if got := strings.Contains(stderr.String(), want); got != tc.warn {
			t.Errorf("postmaster %q: stderr %q, want warning %v", tc.postmaster, stderr.String(), tc.warn)
		}
		if stdout.String() != "added domain "+name+"\n" {
			t.Errorf("stdout %q", stdout.String())
		}
	}
}
