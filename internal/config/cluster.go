package config

import (
	"net"
	"net/netip"
	"regexp"
	"strings"
	"time"
)

// Cluster is the [cluster] section. A non-empty secret turns cluster mode
// on: the node registers in PostgreSQL, serves mailstores only under a
// lease, and front ends route each user to the node serving their store.
type Cluster struct {
	// Secret is shared by every node. Front ends log in to back ends on a
	// user's behalf with it (SASL PLAIN, authcid ProxyIdentity), so it is
	// a password of every account: keep it out of reach of users.
	Secret string `toml:"secret"`
	// LeaseTTL is how long a store lease lasts without renewal: the
	// failover time after a mailstore node dies (between 2/3 and 4/3 of
	// it: renewals come every third). Default 10s.
	LeaseTTL Duration `toml:"lease_ttl"`
	// Advertise is the host (IP or name) other nodes reach this node at;
	// its listeners register as Advertise:port. Default: the listener's
	// own host when it is not a wildcard, else the hostname. An IP here is
	// also the source address of this node's internal connections, which
	// back ends recognise by Peers.
	Advertise string `toml:"advertise"`
	// Peers are the networks of the cluster's nodes. IMAP and POP3
	// listeners accept a PROXY header from them (a front end passes on its
	// client's address), and LMTP treats them as idempotency peers.
	Peers []netip.Prefix `toml:"peers"`
	// Schema holds the node and lease tables, in [postgres] dsn (or DSN).
	Schema string `toml:"schema"`
	DSN    string `toml:"dsn"`
}

// ProxyIdentity is the SASL authentication identity with which a front
// end logs in to a back end on a user's behalf, with the cluster secret as
// password (as Cyrus proxyservers and Dovecot master users).
const ProxyIdentity = "rookery-cluster"

// Clustered reports whether the node runs in cluster mode.
func (c *Config) Clustered() bool { return c.Cluster.Secret != "" }

// NodeName is this node's name in the cluster: lease holder, queue claim
// owner, and the name in `rookery cluster status`.
func (c *Config) NodeName() string { return c.Node }

var nodeName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

func (c *Config) applyClusterDefaults() {
	if c.Node == "" {
		c.Node = strings.ToLower(c.Hostname)
	}
	if c.Cluster.LeaseTTL.Duration == 0 {
		c.Cluster.LeaseTTL.Duration = 10 * time.Second
	}
	c.Cluster.Schema = or(c.Cluster.Schema, "cluster")
	c.Cluster.DSN = or(c.Cluster.DSN, c.Postgres.DSN)
	if c.Clustered() && len(c.LMTP.IdempotencyPeers) == 0 {
		// Queue runners on other nodes relay with their queue id as key.
		c.LMTP.IdempotencyPeers = c.Cluster.Peers
	}
}

func (c *Config) validateCluster(bad func(key, format string, args ...any)) {
	if !nodeName.MatchString(c.Node) {
		bad("node", "expected a name of lower-case letters, digits, '.', '-' and '_', got %q", c.Node)
	}
	if !c.Clustered() {
		return
	}
	if len(c.Cluster.Secret) < 16 {
		bad("cluster.secret", "expected at least 16 characters (it is every account's password to a back end)")
	}
	if c.Cluster.LeaseTTL.Duration < 3*time.Second {
		bad("cluster.lease_ttl", "expected at least 3s, got %s", c.Cluster.LeaseTTL)
	}
	if c.Cluster.DSN == "" {
		bad("cluster.dsn", "cluster mode keeps nodes and leases in PostgreSQL: set a dsn here or in [postgres]")
	}
	if len(c.Cluster.Peers) == 0 {
		bad("cluster.peers", "list the networks of the cluster's nodes (e.g. [\"10.0.0.0/24\"])")
	}
	if c.Directory.Engine != EnginePostgres {
		bad("directory.engine", "cluster mode needs the postgres directory, every node reads it")
	}
	if c.Queue.Engine != EnginePostgres {
		bad("queue.engine", "cluster mode needs the postgres queue, shared by the nodes")
	}
	for _, m := range c.Mailstores {
		if m.Engine != EnginePostgres {
			bad("mailstores", "cluster mode serves stores under a lease, which only the postgres engine enforces; %q is %s", m.Name, m.Engine)
		}
	}
	if a := c.Cluster.Advertise; a != "" {
		if ip := net.ParseIP(a); ip != nil && ip.IsUnspecified() {
			bad("cluster.advertise", "expected an address other nodes can reach, got %q", a)
		}
	}
}
