package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// startHTTP serves /metrics, /healthz and /readyz; the web UIs will join
// this listener.
func (s *Server) startHTTP() error {
	if s.cfg.Listen.HTTP == "" {
		return nil
	}
	l, err := s.listen("http", s.cfg.Listen.HTTP, nil, nil)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.serve("http", l, func(l net.Listener) error {
		if err := hs.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, hs.Shutdown)
	return nil
}

// healthz is liveness: 200 while the process serves HTTP at all. It does
// not look at the engines: a database outage is not cured by restarting
// every node, which is what an orchestrator does to a failing liveness
// check. Readiness is /readyz.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) }

// readyz answers 200 when the node can do its work: the directory, the
// queue and every mailstore it opened answer, and it is neither starting
// nor shutting down. A load balancer sends no new connections to a node answering 503.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		http.Error(w, "starting or shutting down", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if _, err := s.dir.Domains(ctx); err != nil {
		http.Error(w, "directory: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	if _, err := s.queue.Stats(ctx); err != nil {
		http.Error(w, "queue: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	for name, st := range s.stores {
		if _, err := st.Mailboxes(ctx, "readyz@invalid"); err != nil && !errorsIsNoAccount(err) {
			http.Error(w, "mailstore "+name+": "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	w.Write([]byte("ready\n"))
}
