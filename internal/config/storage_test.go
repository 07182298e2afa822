package config

import (
	"strings"
	"testing"
)

// TestStorageMinFree: [storage] min_free takes a size or a percentage;
// anything else is an error naming the key.
func TestStorageMinFree(t *testing.T) {
	c, err := Load(write(t, "hostname = \"h\"\ndata_dir = \"d\"\n[storage]\nmin_free = \"2GiB\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Storage.MinFree.Bytes != 2<<30 {
		t.Fatalf("min_free = %+v, want 2 GiB", c.Storage.MinFree)
	}
	if c, err = Load(write(t, "hostname = \"h\"\ndata_dir = \"d\"\n[storage]\nmin_free = \"10%\"\n")); err != nil || c.Storage.MinFree.Percent != 10 {
		t.Fatalf("min_free 10%%: %+v, %v", c, err)
	}
	_, err = Load(write(t, "hostname = \"h\"\ndata_dir = \"d\"\n[storage]\nmin_free = \"lots\"\n"))
	if err == nil || !strings.Contains(err.Error(), "min_free") {
		t.Fatalf("bad min_free: %v", err)
	}
}
