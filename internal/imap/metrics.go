package imap

import "github.com/prometheus/client_golang/prometheus"

// metrics are the server's Prometheus collectors, registered once per Server.
type metrics struct {
	sessionsOpen prometheus.Gauge
	commands     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		sessionsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rookery_imap_sessions_open",
			Help: "IMAP sessions currently open.",
		}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rookery_imap_commands_total",
			Help: "IMAP commands by name and result (ok, no, bad).",
		}, []string{"command", "result"}),
	}
	if reg != nil {
		reg.MustRegister(m.sessionsOpen, m.commands)
	}
	return m
}
