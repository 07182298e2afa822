package backup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefusals: a backup goes into a new directory only, a restore needs
// a marked backup and a data directory without mail data.
func TestRefusals(t *testing.T) {
	ctx := t.Context()
	data := t.TempDir()
	os.WriteFile(filepath.Join(data, directoryDB), nil, 0o600)
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), nil, 0o600)
	if err := Backup(ctx, data, full); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("backup into a non-empty dir: %v", err)
	}
	if err := Backup(ctx, t.TempDir(), filepath.Join(t.TempDir(), "b")); err == nil || !strings.Contains(err.Error(), "not a rookery data directory") {
		t.Errorf("backup of a non-data dir: %v", err)
	}
	if err := Restore(ctx, full, t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a complete rookery backup") {
		t.Errorf("restore of a non-backup: %v", err)
	}
	os.WriteFile(filepath.Join(full, Marker), nil, 0o600)
	if err := Restore(ctx, full, data); err == nil || !strings.Contains(err.Error(), "already has directory.db") {
		t.Errorf("restore over existing data: %v", err)
	}
}
