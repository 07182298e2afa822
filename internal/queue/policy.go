package queue

import "time"

// Policy is the retry and notification schedule, modelled on Postfix's
// minimal_backoff_time/maximal_backoff_time, maximal_queue_lifetime and
// delay_warning_time. Zero fields take the DefaultPolicy values.
type Policy struct {
	// Retry is the wait before each retry: Retry[n] after the (n+1)th
	// failed attempt, the last entry repeating.
	Retry []time.Duration
	// MaxAge is how long a message may stay undelivered; a recipient still
	// failing temporarily after that fails with 4.4.7 and is bounced.
	MaxAge time.Duration
	// DelayWarning is the age after which the sender gets one "delayed"
	// DSN (RFC 3464 Action: delayed). Negative disables it.
	DelayWarning time.Duration
	// KeepFailed is how long a message whose recipients all ended stays
	// listed for the administrator after its last failure.
	KeepFailed time.Duration
}

// DefaultPolicy returns 5m doubling to a 1h cap, 5 days' lifetime, a
// warning after 4 hours and failures kept for 7 days.
func DefaultPolicy() Policy {
	return Policy{
		Retry:        []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute, 40 * time.Minute, time.Hour},
		MaxAge:       5 * 24 * time.Hour,
		DelayWarning: 4 * time.Hour,
		KeepFailed:   7 * 24 * time.Hour,
	}
}

// withDefaults fills zero fields from DefaultPolicy.
func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	if len(p.Retry) == 0 {
		p.Retry = d.Retry
	}
	if p.MaxAge <= 0 {
		p.MaxAge = d.MaxAge
	}
	if p.DelayWarning == 0 {
		p.DelayWarning = d.DelayWarning
	}
	if p.KeepFailed <= 0 {
		p.KeepFailed = d.KeepFailed
	}
	return p
}

// Backoff is the wait after a failed attempt when attempts attempts had
// failed before it.
func (p Policy) Backoff(attempts int) time.Duration {
	r := p.withDefaults().Retry
	return r[min(max(attempts, 0), len(r)-1)]
}
