package outbound

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	deliveries *prometheus.CounterVec
	connsOpen  prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rookery_outbound_deliveries_total",
			Help: "Outbound delivery attempts per recipient, by result (delivered, pending = retry, failed)."}, []string{"result"}),
		connsOpen: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rookery_outbound_connections_open",
			Help: "Open outbound SMTP connections, busy or idle in the cache."}),
	}
	if reg != nil {
		reg.MustRegister(m.deliveries, m.connsOpen)
	}
	return m
}
