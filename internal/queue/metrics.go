package queue

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type runnerMetrics struct {
	deliveries *prometheus.CounterVec
	dsns       *prometheus.CounterVec
	latency    prometheus.Histogram
}

func newRunnerMetrics(reg prometheus.Registerer, store Store, now func() time.Time) *runnerMetrics {
	m := &runnerMetrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rookery_queue_deliveries_total",
			Help: "Delivery attempts per recipient, by resulting status (delivered, pending = retry, failed)."}, []string{"status"}),
		dsns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rookery_queue_dsns_total",
			Help: "Delivery status notifications queued, by action (failed, delayed)."}, []string{"action"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rookery_delivery_latency_seconds",
			Help: "Time from acceptance to delivery into the mailbox.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 12)}),
	}
	if reg != nil {
		reg.MustRegister(m.deliveries, m.dsns, m.latency, &statsCollector{store: store, now: now})
	}
	return m
}

// statsCollector reports the queue's size at scrape time from Store.Stats,
// so the gauges are exact without a polling loop.
type statsCollector struct {
	store Store
	now   func() time.Time
}

var (
	messagesDesc = prometheus.NewDesc("rookery_queue_messages",
		"Messages with undelivered recipients, by state (active, held).", []string{"state"}, nil)
	oldestDesc = prometheus.NewDesc("rookery_queue_oldest_age_seconds",
		"Age of the oldest unheld message with undelivered recipients; 0 when there is none.", nil, nil)
)

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- messagesDesc
	ch <- oldestDesc
}

// Collect queries the store with a short deadline: a scrape must not hang
// on a locked database.
func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.store.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(messagesDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(messagesDesc, prometheus.GaugeValue, float64(s.Messages-s.Held), "active")
	ch <- prometheus.MustNewConstMetric(messagesDesc, prometheus.GaugeValue, float64(s.Held), "held")
	age := 0.0
	if !s.Oldest.IsZero() {
		age = max(c.now().Sub(s.Oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age)
}
