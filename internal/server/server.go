// Package server wires the roles of one node together from a config: it
// opens the engines (directory, mailstores, queue), starts the listeners of
// the roles the node runs, and shuts them down gracefully.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/rookery-mail/rookery/internal/authlimit"
	"github.com/rookery-mail/rookery/internal/cluster"
	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/datadir"
	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/diskspace"
	"github.com/rookery-mail/rookery/internal/engine"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/proxyproto"
	"github.com/rookery-mail/rookery/internal/queue"
	"github.com/rookery-mail/rookery/internal/router"
	"github.com/rookery-mail/rookery/internal/smtp/outbound"
)

// Server is one running node.
type Server struct {
	cfg       *config.Config
	log       *slog.Logger
	reg       *prometheus.Registry
	dir       directory.Directory
	stores    map[string]mailstore.Store
	queue     queue.Store
	router    *router.Router
	local     *router.LocalDeliverer
	outbound  *outbound.Client
	runner    *queue.Runner
	disk      *diskspace.Monitor // free space under data_dir
	gc        *blobCollector     // collects unreferenced message bodies
	tls       *tls.Config
	cert      *certificate       // behind tls, for ReloadTLS
	limiter   *authlimit.Limiter // shared by every protocol's login
	logins    *sharedLogins      // tells other cluster nodes login outcomes; nil alone
	smtpLimit wrapFunc           // the SMTP listeners' shared limits; see smtpWrap
	authCache *authCache
	hashSlots chan struct{} // bounds concurrent password hashing
	services  []service
	// listeners are closed by Shutdown after the roles' own shutdown: a
	// role whose Serve goroutine had not run yet (go-smtp) would
	// otherwise accept forever on a listener it never saw closed.
	listeners []net.Listener
	bound     map[string]net.Listener // by config key, until a role takes it
	addrs     map[string]net.Addr
	lock      *datadir.Lock
	// cluster is the node's membership and leases (cluster mode only);
	// leaveCluster stops them and hands the leases over.
	cluster      *cluster.Registry
	leaveCluster func(context.Context)
	// disconnectors end the IMAP and POP3 sessions of some users (a store
	// this node stopped serving).
	disconnectors []func(match func(user string) bool) int
	// ready is set once every listener is up and cleared when Shutdown
	// begins: /readyz answers 503 outside that span.
	ready  atomic.Bool
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// service is a started listener with its graceful stop.
type service struct {
	name     string
	shutdown func(context.Context) error
}

// Open opens the node's engines. Nothing listens until Start.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Server, error) {
	s := &Server{cfg: cfg, log: log, reg: prometheus.NewRegistry(), stores: map[string]mailstore.Store{}, addrs: map[string]net.Addr{},
		authCache: newAuthCache(), hashSlots: make(chan struct{}, runtime.NumCPU())}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.limiter = authlimit.New(authPolicy(cfg.Auth), nil, s.reg)
	ok := false
	defer func() {
		if !ok {
			s.closeEngines()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	var err error
	if s.lock, err = datadir.Acquire(cfg.DataDir); err != nil {
		return nil, err
	}
	if s.dir, err = engine.Directory(ctx, cfg); err != nil {
		return nil, err
	}
	// Every configured store can take new accounts (placement), unless
	// an administrator closed it (store set --accepting=false).
	for _, name := range cfg.StoreNames() {
		if err := s.dir.EnsureStore(ctx, name); err != nil {
			return nil, fmt.Errorf("register mailstore %s: %w", name, err)
		}
	}
	// Below [storage] min_free the indexer pauses; when space grows
	// again, mail deferred for a full disk is retried at once.
	s.disk = diskspace.New(diskspace.Options{Dir: cfg.DataDir, Reserve: cfg.Storage.MinFree,
		OnReturn: func() { s.runner.SpaceReturned() }, Logger: log.With("role", "storage"), Registerer: s.reg})
	s.disk.Check()
	// In a cluster only mailstore nodes hold mail; alone, a node opens
	// every store it lists.
	if !cfg.Clustered() || cfg.HasRole("mailstore") {
		opts := engine.StoreOptions{Hub: mailstore.NewHub(), Logger: log, Pause: s.disk.Low}
		if cfg.Clustered() {
			opts.Fence, opts.FenceTable = s.fenceToken, cluster.LeaseTable(cfg.Cluster.Schema)
		}
		if s.stores, err = engine.Stores(ctx, cfg, opts); err != nil {
			return nil, err
		}
	}
	s.gc = newBlobCollector(blobCollector{stores: s.stores, interval: cfg.Mailstore.GCInterval.Duration, grace: cfg.Mailstore.GCGrace.Duration,
		sweepEvery: cfg.Mailstore.GCSweepInterval.Duration, now: time.Now, log: log.With("role", "mailstore")}, s.reg)
	if s.queue, err = engine.Queue(ctx, cfg); err != nil {
		return nil, err
	}
	s.router = router.New(s.dir, s.stores)
	s.local = &router.LocalDeliverer{Router: s.router}
	dispatch := &router.Dispatcher{Local: s.local}
	if cfg.Clustered() {
		// The queue runner relays to the node serving each store; the
		// LMTP role's deliverer (s.local) stores only here.
		dispatch.Local = &router.LocalDeliverer{Router: s.router, Relay: &router.Relay{
			Locate: s.lmtpOf, Hostname: cfg.Hostname, Dialer: s.peerDialer()}}
	}
	if cfg.HasRole("outbound") {
		s.outbound = outbound.New(outbound.Options{
			Hostname:   cfg.Hostname,
			Resolver:   outbound.NewResolver(cfg.Outbound.Resolver),
			Port:       cfg.Outbound.Port,
			Logger:     log,
			Registerer: s.reg,
		})
		dispatch.Remote = s.outbound
	}
	s.runner = queue.NewRunner(s.queue, dispatch, queue.RunnerOptions{Logger: log.With("role", "queue"), Registerer: s.reg,
		Hostname: cfg.Hostname, IsLocal: s.router.IsLocal, Policy: queuePolicy(cfg.Queue),
		Owner: claimOwner(cfg), ClaimTTL: cfg.Queue.ClaimTTL.Duration, Local: runsLocalQueue(cfg), Remote: cfg.HasRole("outbound")})
	if s.tls, s.cert, err = loadTLS(cfg); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// Start opens the listeners of the configured roles and starts the queue.
func (s *Server) Start(ctx context.Context) error {
	if err := s.bindAll(); err != nil {
		s.Shutdown(ctx)
		return err
	}
	if s.cfg.Clustered() {
		if err := s.joinCluster(ctx); err != nil {
			s.Shutdown(ctx)
			return err
		}
	}
	rctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.warnPostmaster(ctx)
	s.wg.Add(3)
	go func() { defer s.wg.Done(); s.runner.Run(rctx) }()
	go func() { defer s.wg.Done(); s.disk.Run(rctx) }()
	go func() { defer s.wg.Done(); s.gc.Run(rctx) }()
	// HTTP first, so Shutdown (in reverse) stops it last: while sessions
	// drain, /readyz tells load balancers to send nothing new.
	starts := []func() error{s.startHTTP, s.startMX, s.startSubmission, s.startLMTP, s.startIMAP, s.startPOP3}
	for _, start := range starts {
		if err := start(); err != nil {
			s.Shutdown(ctx)
			return err
		}
	}
	s.ready.Store(true)
	return nil
}

// listen takes the listener bindAll opened for key (the config key, as in
// Addr) for a role to serve; wrap, when set, goes below TLS.
func (s *Server) listen(key, addr string, tlsCfg *tls.Config, wrap wrapFunc) (net.Listener, error) {
	l, ok := s.bound[key]
	if !ok {
		return nil, fmt.Errorf("listen.%s %s: not bound before start (configuredListeners misses it)", key, addr)
	}
	delete(s.bound, key)
	s.addrs[key] = l.Addr()
	s.listeners = append(s.listeners, l)
	if trusted := s.proxyTrusted(key); len(trusted) > 0 {
		// Innermost: limits, logs and TLS all see the client's address.
		l = proxyproto.NewListener(l, proxyproto.Options{Trusted: trusted, Logger: s.log.With("listener", key)})
	}
	if wrap != nil {
		l = wrap(l, tlsCfg != nil)
	}
	if tlsCfg != nil {
		l = tls.NewListener(l, tlsCfg)
	}
	return l, nil
}

// serve runs a role's Serve loop and registers its shutdown.
func (s *Server) serve(name string, l net.Listener, serve func(net.Listener) error, shutdown func(context.Context) error) {
	s.services = append(s.services, service{name, shutdown})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := serve(l); err != nil {
			s.log.Error("listener stopped", "service", name, "err", err)
		}
	}()
	s.log.Info("listening", "service", name, "addr", l.Addr().String())
}

// Addr returns the bound address of a listener by its config key ("mx",
// "imap", ...), or nil. Tests listen on port 0 and ask here.
func (s *Server) Addr(key string) net.Addr { return s.addrs[key] }

// Shutdown stops listeners (letting sessions finish until ctx ends), then
// the queue runner, then closes the engines.
func (s *Server) Shutdown(ctx context.Context) error {
	s.ready.Store(false)
	var errs []error
	for i := len(s.services) - 1; i >= 0; i-- {
		err := s.services[i].shutdown(ctx)
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			// Its sessions were closed and logged; say if some are left behind.
			s.log.Warn("shutdown deadline passed, connections closed", "service", s.services[i].name, "err", err)
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", s.services[i].name, err))
		}
	}
	for _, l := range s.listeners {
		l.Close() // mostly closed already; the error says so
	}
	for _, l := range s.bound {
		l.Close() // bound, but Start failed before a role took it
	}
	if s.cancel != nil {
		s.cancel()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		// Say which: a stuck goroutine is a bug to find, not to wait out.
		var stacks strings.Builder
		pprof.Lookup("goroutine").WriteTo(&stacks, 1)
		s.log.Error("shutdown: goroutines still running", "stacks", stacks.String())
		errs = append(errs, errors.New("shutdown: goroutines still running"))
	}
	if s.outbound != nil {
		s.outbound.Close()
	}
	if s.leaveCluster != nil {
		s.leaveCluster(ctx) // nothing writes any more: hand the stores over
	}
	errs = append(errs, s.closeEngines())
	return errors.Join(errs...)
}

func (s *Server) closeEngines() error {
	var errs []error
	if s.queue != nil {
		errs = append(errs, s.queue.Close())
	}
	for _, st := range s.stores {
		errs = append(errs, st.Close())
	}
	if s.dir != nil {
		errs = append(errs, s.dir.Close())
	}
	if s.lock != nil {
		errs = append(errs, s.lock.Release()) // last: the engines are closed
		s.lock = nil
	}
	return errors.Join(errs...)
}

// Stores returns the mailstores this node serves, by name.
func (s *Server) Stores() map[string]mailstore.Store { return s.stores }

// Directory returns the node's directory.
func (s *Server) Directory() directory.Directory { return s.dir }

// queuePolicy turns the [queue] settings into the runner's policy; zero
// values keep the queue package's defaults.
func queuePolicy(c config.Queue) queue.Policy {
	p := queue.Policy{MaxAge: c.MaxAge.Duration, DelayWarning: c.DelayWarning.Duration}
	for _, d := range c.Retry {
		p.Retry = append(p.Retry, d.Duration)
	}
	return p
}

// runsLocalQueue says whether the node's queue runner takes local
// recipients: alone, always; in a cluster, where mail is enqueued (mx,
// submission), relaying to the serving nodes.
func runsLocalQueue(cfg *config.Config) bool {
	return !cfg.Clustered() || cfg.HasRole("mx") || cfg.HasRole("submission")
}

// claimOwner names this node in its queue claims: stable across restarts,
// so a restarted node releases what it held before a crash at once, and
// distinct between nodes sharing a queue. A cluster node's name is unique
// by configuration; outside a cluster two nodes on one host differ in
// data_dir.
func claimOwner(cfg *config.Config) string {
	if cfg.Clustered() {
		return cfg.Node
	}
	return cfg.Hostname + ":" + cfg.DataDir
}
