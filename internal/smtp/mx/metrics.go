package mx

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	sessions prometheus.Gauge
	rejected *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rookery_smtp_sessions_open", Help: "Open inbound SMTP sessions.", ConstLabels: prometheus.Labels{"role": "mx"}}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rookery_smtp_recipients_rejected_total", Help: "Recipients rejected at RCPT, by reply code.", ConstLabels: prometheus.Labels{"role": "mx"}}, []string{"code"}),
	}
	if reg != nil {
		reg.MustRegister(m.sessions, m.rejected)
	}
	return m
}
