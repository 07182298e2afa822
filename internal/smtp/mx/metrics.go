package mx

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	sessions prometheus.Gauge
	messages *prometheus.CounterVec
	rejected *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rookery_smtp_sessions_open", Help: "Open inbound SMTP sessions.", ConstLabels: prometheus.Labels{"role": "mx"}}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rookery_smtp_messages_total", Help: "Messages by outcome (accepted, rejected, tempfail).", ConstLabels: prometheus.Labels{"role": "mx"}}, []string{"result"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rookery_smtp_recipients_rejected_total", Help: "Recipients rejected at RCPT, by reply code.", ConstLabels: prometheus.Labels{"role": "mx"}}, []string{"code"}),
	}
	if reg != nil {
		reg.MustRegister(m.sessions, m.messages, m.rejected)
	}
	return m
}

func sprintf(format string, v ...any) string { return fmt.Sprintf(format, v...) }
func sprint(v ...any) string                 { return fmt.Sprint(v...) }
