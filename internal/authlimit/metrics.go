package authlimit

import "github.com/prometheus/client_golang/prometheus"

// metrics show an administrator that guessing is going on.
type metrics struct {
	throttled *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rookery_auth_throttled_total",
		Help: "Login attempts past a failure budget: held for their turn, or denied.",
	}, []string{"action"})}
	if reg != nil {
		reg.MustRegister(m.throttled)
	}
	return m
}
