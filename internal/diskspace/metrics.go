package diskspace

import "github.com/prometheus/client_golang/prometheus"

// metrics are the monitor's last measurement, for alerting before the
// disk is full rather than after.
type metrics struct {
	free, reserve prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		free: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rookery_storage_free_bytes",
			Help: "Free space available under data_dir at the last check."}),
		reserve: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rookery_storage_reserve_bytes",
			Help: "[storage] min_free in bytes; below it background work pauses."}),
	}
	if reg != nil {
		reg.MustRegister(m.free, m.reserve)
	}
	return m
}
