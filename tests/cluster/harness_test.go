package cluster

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/testsvc"
)

// Timing of the started cluster: short, so failover scenarios finish in
// seconds, and within the config's lower bounds (3s and 5s).
const (
	leaseTTL   = 5 * time.Second
	claimTTL   = 10 * time.Second
	queueRetry = "2s 3s 5s 10s 20s" // mail deferred while a store moves is retried within seconds
)

// proc is one line of nodes.txt: a process of the cluster.
type proc struct {
	name  string
	roles []string
	addrs map[string]string // proto → host:port
	pid   int
}

func (p *proc) has(role string) bool {
	for _, r := range p.roles {
		if r == role {
			return true
		}
	}
	return false
}

// account is one line of credentials.txt.
type account struct{ addr, pass, store string }

// cluster is a cluster started by examples/cluster/start.sh.
type cluster struct {
	dir    string
	offset int
	procs  map[string]*proc
	order  []string // nodes.txt order
	users  []account
}

// startCluster runs start.sh into a fresh directory and stops the cluster
// when the test ends; on failure the test's output gets every node's log tail.
func startCluster(t testing.TB) *cluster {
	t.Helper()
	testsvc.Postgres(t) // skips (fails under CI) without PostgreSQL
	testsvc.S3(t)       // and without versitygw
	// Not t.TempDir: PostgreSQL runs as "postgres" under root and must reach it.
	parent, err := os.MkdirTemp("", "rookery-cluster-")
	if err != nil || os.Chmod(parent, 0o755) != nil {
		t.Fatal(err)
	}
	c := &cluster{dir: filepath.Join(parent, "c"), offset: freeOffset(t)}
	t.Cleanup(func() {
		if t.Failed() {
			c.logTails(t)
		}
		cmd := exec.Command(script("stop.sh"), c.dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("stop.sh: %v\n%s", err, out)
		}
		os.RemoveAll(parent)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute) // includes building rookery
	defer cancel()
	cmd := exec.CommandContext(ctx, script("start.sh"), c.dir, strconv.Itoa(c.offset))
	cmd.Env = append(os.Environ(), "LEASE_TTL="+leaseTTL.String(), "CLAIM_TTL="+claimTTL.String(), "QUEUE_RETRY="+queueRetry,
		"PATH="+os.Getenv("PATH")+":"+filepath.Join(os.Getenv("HOME"), ".cache", "rookery-ci", "bin"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		c.logTails(t)
		t.Fatalf("start.sh: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "The Rookery cluster is running") {
		t.Fatalf("start.sh printed no connection details:\n%s", out)
	}
	c.readNodes(t)
	c.readCredentials(t)
	return c
}

func script(name string) string { return filepath.Join("..", "..", "examples", "cluster", name) }

func (c *cluster) readNodes(t testing.TB) {
	t.Helper()
	f, err := os.Open(filepath.Join(c.dir, "nodes.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c.procs = map[string]*proc{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			t.Fatalf("nodes.txt: short line %q", sc.Text())
		}
		p := &proc{name: fields[0], roles: strings.Split(fields[1], ","), addrs: map[string]string{}}
		for _, f := range fields[2:] {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				t.Fatalf("nodes.txt: %q in %q is not proto=host:port or pid=PID", f, sc.Text())
			}
			if k == "pid" {
				if p.pid, err = strconv.Atoi(v); err != nil {
					t.Fatalf("nodes.txt: %q", sc.Text())
				}
				continue
			}
			if _, _, err := net.SplitHostPort(v); err != nil {
				t.Fatalf("nodes.txt: %q: %v", f, err)
			}
			p.addrs[k] = v
		}
		if p.pid == 0 {
			t.Fatalf("nodes.txt: no pid in %q", sc.Text())
		}
		c.procs[p.name] = p
		c.order = append(c.order, p.name)
	}
}

func (c *cluster) readCredentials(t testing.TB) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, "credentials.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("credentials.txt: %q is not: address password store", line)
		}
		c.users = append(c.users, account{f[0], f[1], f[2]})
	}
}

// node returns the named process; the test fails if there is none.
func (c *cluster) node(t testing.TB, name string) *proc {
	t.Helper()
	p := c.procs[name]
	if p == nil {
		t.Fatalf("no %s in nodes.txt", name)
	}
	return p
}

// withRole lists the running rookery nodes with role, in nodes.txt order.
func (c *cluster) withRole(role string) []*proc {
	var ps []*proc
	for _, n := range c.order {
		if p := c.procs[n]; p.has(role) && p.addrs["http"] != "" && p.alive() {
			ps = append(ps, p)
		}
	}
	return ps
}

// frontEnds are the IMAP/POP3 nodes clients reach through HAProxy: those
// that hold no mail.
func (c *cluster) frontEnds() []*proc {
	var ps []*proc
	for _, p := range c.withRole("imap") {
		if !p.has("mailstore") {
			ps = append(ps, p)
		}
	}
	return ps
}

// haproxy is the load balancer's process, nil without HAProxy installed.
func (c *cluster) haproxy(t testing.TB) *proc {
	t.Helper()
	if p := c.procs["haproxy"]; p != nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("haproxy is not running (start.sh found no haproxy; .ci/run installs it)")
	}
	t.Skip("haproxy is not installed (apt-get install haproxy)")
	return nil
}

func (c *cluster) user(t testing.TB, store string) account {
	t.Helper()
	for _, u := range c.users {
		if u.store == store {
			return u
		}
	}
	t.Fatalf("no account on store %s in credentials.txt", store)
	return account{}
}

// admin runs a rookery command with the admin config.
func (c *cluster) admin(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(c.dir, "rookery"), append(args, "--config", filepath.Join(c.dir, "rookery.toml"))...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("rookery %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ready reports whether the node's /readyz answers 200.
func ready(p *proc) bool {
	cl := http.Client{Timeout: 2 * time.Second}
	resp, err := cl.Get("http://" + p.addrs["http"] + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// signal sends sig to the process.
func (p *proc) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(p.pid, sig); err != nil {
		t.Fatalf("kill -%d %s (pid %d): %v", sig, p.name, p.pid, err)
	}
}

// alive reports whether the process exists and is not a zombie.
func (p *proc) alive() bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return false
	}
	// pid (comm) STATE ...; comm may hold spaces but not ")" at its end.
	rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
	return !strings.HasPrefix(strings.TrimSpace(rest), "Z")
}

// eventually polls cond every 100ms until it holds or d passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
	}
}

// logTails prints the end of every node's log and HAProxy's.
func (c *cluster) logTails(t testing.TB) {
	logs, _ := filepath.Glob(filepath.Join(c.dir, "*", "log"))
	logs = append(logs, filepath.Join(c.dir, "haproxy.log"))
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		lines = lines[max(0, len(lines)-25):]
		t.Logf("--- %s (last %d lines)\n%s", l, len(lines), strings.Join(lines, "\n"))
	}
}

// freeOffset picks a port offset under which the example's listeners, on
// every address of the layout, find their ports free.
func freeOffset(t testing.TB) int {
	hosts := []string{"127.0.0.10", "127.0.0.11", "127.0.0.12", "127.0.0.21", "127.0.0.22", "127.0.0.31", "127.0.0.32", "127.0.0.33"}
	for range 50 {
		offset := 10000 + rand.IntN(14000) // every port below the ephemeral range (32768-)
		if free(offset, hosts) {
			return offset
		}
	}
	t.Fatal("no free port offset")
	return 0
}

func free(offset int, hosts []string) bool {
	for _, h := range hosts {
		for _, base := range []int{2525, 2587, 2424, 1143, 1110, 8080} {
			l, err := net.Listen("tcp", fmt.Sprintf("%s:%d", h, base+offset))
			if err != nil {
				return false
			}
			l.Close()
		}
	}
	return true
}
