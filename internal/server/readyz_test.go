package server

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/testsvc"
)

// TestHealthzReadyz: /healthz is liveness and stays 200 while PostgreSQL
// under the mailstore is down; /readyz answers 503 naming the failing
// engine until it is back.
func TestHealthzReadyz(t *testing.T) {
	pg := testsvc.OwnPostgres(t)
	e := startEnv(t, func(c *config.Config) {
		c.Mailstores = []config.MailstoreEngine{{Name: config.DefaultMailstore, Engine: config.EnginePostgres, DSN: pg.DSN,
			Schema: "store_default", Blobs: "fs:mailstores/default/blobs"}}
	})
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + e.addr("http") + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/readyz"); code != 200 || body != "ready\n" {
		t.Fatalf("/readyz of a running node: %d %q", code, body)
	}
	pg.Stop(t)
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "mailstore default") {
		t.Fatalf("/readyz with the mailstore's database down: %d %q", code, body)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("/healthz with the database down: %d, want 200 (the process is alive)", code)
	}
	pg.Start(t)
	deadline := time.Now().Add(10 * time.Second)
	for code, body := get("/readyz"); code != 200; code, body = get("/readyz") {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after the database came back: %d %q", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
