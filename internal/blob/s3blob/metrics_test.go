package s3blob

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rookery-mail/rookery/internal/testsvc"
)

// TestMetrics: request attempts are counted by method and outcome under
// the store's label, and a second store on the same bucket/prefix shares
// the counters instead of failing to register.
func TestMetrics(t *testing.T) {
	endpoint, bucket, ak, sk := testsvc.S3(t)
	reg := prometheus.NewRegistry()
	cfg := Config{Endpoint: endpoint, Region: "us-east-1", AccessKey: ak, SecretKey: sk, Bucket: bucket,
		Prefix: "p", SpoolDir: t.TempDir(), Registerer: reg}
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), cfg); err != nil {
		t.Fatalf("a second store on the same prefix: %v", err)
	}
	if _, _, err := s.Put(context.Background(), strings.NewReader("counted")); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"HEAD 2xx": 2, "HEAD 4xx": 1, "PUT 2xx": 1} // 2 bucket checks, the dedupe check, the upload
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "rookery_s3_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			if l["store"] != bucket+"/p" {
				t.Errorf("store label = %q", l["store"])
			}
			got[l["method"]+" "+l["outcome"]] += m.GetCounter().GetValue()
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("requests %s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}
