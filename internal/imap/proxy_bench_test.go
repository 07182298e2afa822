package imap

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkFetchProxied: the latency of a FETCH over one session,
// directly to the back end and through a front end: "one" fetches flags,
// envelope and body of one of 50 messages in turn, "all" of all 50. The
// p50 and p99 per FETCH are reported as metrics, so one run shows what
// the proxy hop adds (issue #10's goal: under 10%).
func BenchmarkFetchProxied(b *testing.B) {
	back, _ := startBackEnd(b, nil)
	for i := range 50 {
		back.appendMessage(b, "alice", "INBOX", strings.Replace(testMsg, "Hello there", fmt.Sprintf("message %d", i), 1))
	}
	front := startFrontEnd(b, to(back.addr))
	for _, tc := range []struct{ name, addr, set string }{
		{"one/direct", back.addr, ""}, {"one/proxied", front.addr, ""},
		{"all/direct", back.addr, "1:*"}, {"all/proxied", front.addr, "1:*"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := dialRaw(b, tc.addr)
			c.login("alice")
			c.send("S EXAMINE INBOX\r\n")
			c.readUntilTagged("S")
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				set := tc.set
				if set == "" {
					set = fmt.Sprint(i%50 + 1)
				}
				c.send("F FETCH " + set + " (FLAGS ENVELOPE BODY.PEEK[])\r\n")
				c.readUntilTagged("F")
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}
