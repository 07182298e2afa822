package s3blob

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics count S3 request attempts (a retried request counts each time),
// labelled by store (bucket/prefix) so stores sharing a process differ.
type metrics struct {
	requests *prometheus.CounterVec   // method, outcome
	duration *prometheus.HistogramVec // method
}

func newMetrics(reg prometheus.Registerer, store string) (*metrics, error) {
	labels := prometheus.Labels{"store": store}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rookery_s3_requests_total", ConstLabels: labels,
			Help: "S3 request attempts, by HTTP method and outcome (2xx, 3xx, 4xx, 5xx or error).",
		}, []string{"method", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "rookery_s3_request_duration_seconds", ConstLabels: labels,
			Help:    "Time to an S3 response's headers, by HTTP method.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8), // 1ms .. 16s
		}, []string{"method"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.requests, err = register(reg, m.requests); err != nil {
		return nil, err
	}
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector already registered for
// the same store (two stores opened on one bucket/prefix share counters).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

func outcome(status int, err error) string {
	if err != nil {
		return "error"
	}
	return [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}[min(max(status/100, 1), 5)-1]
}
