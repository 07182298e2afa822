package queue_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/queue"
)

// TestRequireTLSExpiryDSN: a REQUIRETLS message that no host could take
// over verified TLS stays queued until MaxAge and then bounces with the
// RFC 8689 §4.2.1 code for the reason, 5.7.10 (no usable TLS) or 5.7.30
// (no REQUIRETLS), not the generic 4.4.7, so the sender learns why; the
// DSNs themselves are REQUIRETLS messages.
func TestRequireTLSExpiryDSN(t *testing.T) {
	for status, reason := range map[string]string{
		"5.7.10": "451 4.7.10 REQUIRETLS: host mx.remote.test[192.0.2.1] offered no working STARTTLS; not sent in plaintext",
		"5.7.30": "451 4.7.30 REQUIRETLS: host mx.remote.test[192.0.2.1] does not offer REQUIRETLS",
	} {
		t.Run(status, func(t *testing.T) {
			f := newFixture(t, func(string) (queue.Status, string) { return queue.Pending, reason })
			m := &queue.Message{From: "alice@remote.test", Received: f.clock.Now(), RequireTLS: true,
				Body:       []byte("From: alice@remote.test\r\nSubject: secret\r\n\r\nhello\r\n"),
				Recipients: []queue.Recipient{{Address: "bob@remote.test", Orig: "bob@remote.test", Remote: true}}}
			if err := f.store.Enqueue(t.Context(), m); err != nil {
				t.Fatal(err)
			}
			for f.clock.Now().Sub(m.Received) <= 5*24*time.Hour {
				f.clock.Add(time.Hour)
				f.process(t)
			}
			got, _ := f.store.Get(t.Context(), m.ID)
			if rc := got.Recipients[0]; rc.Status != queue.Failed {
				t.Fatalf("after MaxAge: %+v", rc)
			}
			if len(f.d.dsns) != 2 {
				t.Fatalf("%d DSNs, want the delay warning and the bounce", len(f.d.dsns))
			}
			// RFC 8689 §4.3: the DSNs carry the original's header, so they
			// are sent with REQUIRETLS too.
			if !f.d.dsns[0].requireTLS || !f.d.dsns[1].requireTLS {
				t.Error("the DSNs of a REQUIRETLS message must be queued with RequireTLS")
			}
			body := f.d.dsns[1].body
			for _, want := range []string{"Action: failed", "Status: " + status, "REQUIRETLS: host mx.remote.test"} {
				if !strings.Contains(body, want) {
					t.Errorf("bounce lacks %q:\n%s", want, body)
				}
			}
		})
	}
}
