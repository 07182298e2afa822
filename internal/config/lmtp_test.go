package config

import (
	"strings"
	"testing"
)

func TestLMTPIdempotencyPeers(t *testing.T) {
	c, err := Load(write(t, "hostname = \"h\"\ndata_dir = \"d\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.LMTP.IdempotencyPeers) != 0 {
		t.Fatalf("default idempotency peers %v, want none: ENVID is trusted only when configured", c.LMTP.IdempotencyPeers)
	}
	c, err = Load(write(t, "hostname = \"h\"\ndata_dir = \"d\"\n[lmtp]\nidempotency_peers = [\"10.1.0.0/16\", \"fd00::/8\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.LMTP.IdempotencyPeers; len(got) != 2 || got[0].String() != "10.1.0.0/16" || got[1].String() != "fd00::/8" {
		t.Fatalf("idempotency peers %v", got)
	}
	_, err = Load(write(t, "hostname = \"h\"\ndata_dir = \"d\"\n[lmtp]\nidempotency_peers = [\"10.1.0.5\"]\n"))
	if err == nil || !strings.Contains(err.Error(), "idempotency_peers") {
		t.Fatalf("a bare address: error %v, want it to name idempotency_peers", err)
	}
}
