package quickstart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/engine"
)

// TestPrepareRelisten runs Prepare again on an existing directory with
// other listener options: they must be applied, not silently ignored, and
// a run without them keeps what is there.
func TestPrepareRelisten(t *testing.T) {
	dir := t.TempDir()
	prepare := func(opts Options) *Result {
		t.Helper()
		opts.Dir = dir
		res, err := Prepare(t.Context(), opts)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	offset := func(n int) *int { return &n }
	res := prepare(Options{})
	if got := res.Config.Listen.MX; got != "127.0.0.1:2525" {
		t.Fatalf("new dir: mx %s", got)
	}
	// A comment the admin added must survive the rewrite.
	cfgPath := filepath.Join(dir, "rookery.toml")
	raw, _ := os.ReadFile(cfgPath)
	os.WriteFile(cfgPath, append(raw, "# my note\n"...), 0o600)

	res = prepare(Options{PortOffset: offset(100)})
	if l := res.Config.Listen; l.MX != "127.0.0.1:2625" || l.IMAP != "127.0.0.1:1243" || l.HTTP != "127.0.0.1:8180" {
		t.Fatalf("--port-offset 100 on an existing dir: %+v", l)
	}
	res = prepare(Options{Bind: "127.0.0.2"})
	if l := res.Config.Listen; l.MX != "127.0.0.2:2625" || l.POP3S != "127.0.0.2:2095" {
		t.Fatalf("--bind on an existing dir (offset kept): %+v", l)
	}
	res = prepare(Options{})
	if l := res.Config.Listen; l.MX != "127.0.0.2:2625" {
		t.Fatalf("a run without options changed the listeners: %+v", l)
	}
	res = prepare(Options{Bind: "::1", PortOffset: offset(0)})
	if l := res.Config.Listen; l.MX != "[::1]:2525" {
		t.Fatalf("--bind ::1 --port-offset 0: %+v", l)
	}
	if raw, _ := os.ReadFile(cfgPath); !strings.Contains(string(raw), "# my note") {
		t.Fatalf("rewrite lost the admin's lines:\n%s", raw)
	}
	if _, err := Prepare(t.Context(), Options{Dir: dir, Bind: "not an address"}); err == nil {
		t.Fatal("--bind with a bad address was accepted")
	}
}

// TestPrepareDKIM checks that the demo domain gets DKIM keys like `rookery
// domain add`, so the demo signs mail, and that a directory prepared before
// keys existed gets them on the next run.
func TestPrepareDKIM(t *testing.T) {
	dir := t.TempDir()
	res, err := Prepare(t.Context(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	keys := domainKeys(t, res)
	if len(keys) != 2 {
		t.Fatalf("demo domain has %d DKIM keys, want 2 (RSA and Ed25519)", len(keys))
	}
	// A second run keeps them.
	if res, err = Prepare(t.Context(), Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if again := domainKeys(t, res); len(again) != 2 || again[0] != keys[0] {
		t.Fatalf("second run changed the keys: %v", again)
	}

	// A demo directory whose domain was added without keys.
	old := t.TempDir()
	if err := writeConfig(filepath.Join(old, "rookery.toml"), old, "127.0.0.1", 0); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(old, "rookery.toml"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := engine.Directory(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.AddDomain(t.Context(), Domain); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if res, err = Prepare(t.Context(), Options{Dir: old}); err != nil {
		t.Fatal(err)
	}
	if keys := domainKeys(t, res); len(keys) != 2 {
		t.Fatalf("an older demo dir got %d DKIM keys, want 2", len(keys))
	}
}

func domainKeys(t *testing.T, res *Result) []string {
	t.Helper()
	d, err := engine.Directory(t.Context(), res.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	keys, err := d.DKIMKeys(t.Context(), Domain)
	if err != nil {
		t.Fatal(err)
	}
	var sel []string
	for _, k := range keys {
		sel = append(sel, k.Selector+"/"+k.Algorithm)
	}
	return sel
}
