package pop3

import "github.com/prometheus/client_golang/prometheus"

// metrics are the server's Prometheus collectors, registered once per Server.
type metrics struct {
	sessionsOpen prometheus.Gauge
	commands     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		sessionsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rookery_pop3_sessions_open",
			Help: "POP3 sessions currently open.",
		}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rookery_pop3_commands_total",
			Help: "POP3 commands by name (unknown ones as \"unknown\") and result (ok, err).",
		}, []string{"command", "result"}),
	}
	if reg != nil {
		reg.MustRegister(m.sessionsOpen, m.commands)
	}
	return m
}
