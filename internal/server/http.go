package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// startHTTP serves /metrics and /healthz; the web UIs will join this listener.
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
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.serve("http", l, func(l net.Listener) error {
		if err := hs.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, hs.Shutdown)
	return nil
}

// healthz answers 200 when the directory and every mailstore answer.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if _, err := s.dir.Domains(ctx); err != nil {
		http.Error(w, "directory: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	for name, st := range s.stores {
		if _, err := st.Mailboxes(ctx, "healthz@invalid"); err != nil && !errorsIsNoAccount(err) {
			http.Error(w, "mailstore "+name+": "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	w.Write([]byte("ok\n"))
}
