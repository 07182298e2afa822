package diskspace

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestParseReserve(t *testing.T) {
	tests := []struct {
		in      string
		total   uint64
		want    uint64
		wantErr bool
	}{
		{"1GiB", 100 << 30, 1 << 30, false},
		{"500MB", 100 << 30, 500e6, false},
		{"2G", 100 << 30, 2 << 30, false},
		{"5%", 1000, 50, false},
		{"0", 1000, 0, false},
		{"12345", 1 << 40, 12345, false},
		{"", 0, 0, true},
		{"-1GiB", 0, 0, true},
		{"100%", 0, 0, true},
		{"1PB", 0, 0, true},
		{"99999999999999999999GiB", 0, 0, true},
	}
	for _, tc := range tests {
		r, err := ParseReserve(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: err %v", tc.in, err)
			continue
		}
		if err == nil && r.bytesOf(tc.total) != tc.want {
			t.Errorf("%q on %d bytes: %d, want %d", tc.in, tc.total, r.bytesOf(tc.total), tc.want)
		}
	}
	var def Reserve
	if got := def.bytesOf(100 << 30); got != 1<<30 {
		t.Errorf("default on 100 GiB: %d, want 1 GiB", got)
	}
	if got := def.bytesOf(10 << 30); got != 512<<20 {
		t.Errorf("default on 10 GiB: %d, want 5%%", got)
	}
}

// TestMonitorLowAndReturn: below the reserve Low is true; OnReturn runs
// whenever free space grows after a low measurement, whether or not it is
// back above the reserve; a failed measurement changes nothing; the last
// measurement is exported as metrics.
func TestMonitorLowAndReturn(t *testing.T) {
	avail := uint64(10 << 30)
	var fail error
	returns := 0
	reg := prometheus.NewRegistry()
	m := New(Options{Dir: "/data", Reserve: Reserve{Bytes: 1 << 30, set: true}, Registerer: reg,
		Free:     func(string) (uint64, uint64, error) { return avail, 100 << 30, fail },
		OnReturn: func() { returns++ }})
	step := func(a uint64, wantLow bool, wantReturns int) {
		t.Helper()
		avail = a
		m.Check()
		if m.Low() != wantLow || returns != wantReturns {
			t.Fatalf("avail %d: low %v, returns %d; want %v, %d", a, m.Low(), returns, wantLow, wantReturns)
		}
	}
	step(10<<30, false, 0)
	step(5<<30, false, 0)
	step(100<<20, true, 0)
	step(0, true, 0)       // full
	step(200<<20, true, 1) // some space freed, still below the reserve
	step(200<<20, true, 1)
	step(2<<30, false, 2) // back above it
	step(3<<30, false, 2)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		got[mf.GetName()] = mf.GetMetric()[0].GetGauge().GetValue()
	}
	if got["rookery_storage_free_bytes"] != 3<<30 || got["rookery_storage_reserve_bytes"] != 1<<30 {
		t.Errorf("metrics: %v", got)
	}
	fail = errors.New("statfs failed")
	step(0, false, 2)
}
