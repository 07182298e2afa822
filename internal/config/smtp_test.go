package config

import (
	"strings"
	"testing"
	"time"
)

func TestSMTPConnectionLimitKeys(t *testing.T) {
	c, err := Load(write(t, "hostname = \"h\"\ndata_dir = \"d\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP.MaxConnectionsPerIP != 20 || c.SMTP.MaxConnections != 0 || c.SMTP.GreetingTimeout.Duration != 30*time.Second ||
		len(c.SMTP.PerIPExempt) != 2 || c.SMTP.PerIPExempt[0].String() != "127.0.0.0/8" || c.SMTP.PerIPExempt[1].String() != "::1/128" {
		t.Fatalf("defaults: %+v", c.SMTP)
	}
	c, err = Load(write(t, "hostname = \"h\"\ndata_dir = \"d\"\n[smtp]\nmax_connections_per_ip = 5\nmax_connections = 900\n"+
		"greeting_timeout = \"10s\"\nmax_connections_per_ip_exempt = []\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP.MaxConnectionsPerIP != 5 || c.SMTP.MaxConnections != 900 || c.SMTP.GreetingTimeout.Duration != 10*time.Second ||
		c.SMTP.PerIPExempt == nil || len(c.SMTP.PerIPExempt) != 0 {
		t.Fatalf("explicit values: %+v", c.SMTP)
	}
	for body, want := range map[string]string{
		"max_connections_per_ip = -1":                       "smtp.max_connections_per_ip",
		"max_connections = -5":                              "smtp.max_connections",
		"max_connections_per_ip_exempt = [\"10.0.0.1/99\"]": "max_connections_per_ip_exempt",
	} {
		_, err := Load(write(t, "hostname = \"h\"\ndata_dir = \"d\"\n[smtp]\n"+body+"\n"))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to mention %q", body, err, want)
		}
	}
}
