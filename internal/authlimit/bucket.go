package authlimit

import (
	"math"
	"time"
)

// budget is the size of a bucket: size failures per period, refilled
// evenly over the period.
type budget struct {
	size   int
	period time.Duration
}

// bucket is a token bucket of login attempts. An attempt takes a token;
// once the bucket is empty it goes into debt, and each attempt in debt
// starts no sooner than a delay after the previous one, the delay
// doubling with the debt. The refill pays the debt back, so in the long
// run a key gets size attempts per period, and a patient client waits
// less than a hasty one.
type bucket struct {
	tokens float64
	at     time.Time // when tokens was last refilled; zero for a new bucket
	last   time.Time // the start of the latest attempt let through
}

// receipt records what one attempt took from a bucket, so that the
// attempt can be given back.
type receipt struct {
	key      string
	budget   budget
	start    time.Time
	prevLast time.Time
}

func (b *bucket) refill(now time.Time, bg budget) {
	switch {
	case b.at.IsZero():
		b.tokens = float64(bg.size)
	case now.After(b.at):
		earned := float64(bg.size) * float64(now.Sub(b.at)) / float64(bg.period)
		b.tokens = min(float64(bg.size), b.tokens+earned)
	default:
		return
	}
	b.at = now
}

// start returns the earliest time the next attempt may start: now while
// the bucket has a token, else the previous start plus the delay.
func (b *bucket) start(now time.Time, bg budget, d delays) time.Time {
	b.refill(now, bg)
	if b.tokens >= 1 {
		return now
	}
	debt := math.Ceil(1 - b.tokens) // 1 for the first attempt past the budget
	s := b.last.Add(d.after(debt))
	if s.Before(now) {
		return now
	}
	return s
}

// take counts an attempt starting at start.
func (b *bucket) take(key string, bg budget, start time.Time) receipt {
	r := receipt{key: key, budget: bg, start: start, prevLast: b.last}
	b.tokens--
	b.last = start
	return r
}

// give undoes take: the attempt did not happen or was no failure.
func (b *bucket) give(r receipt) {
	b.tokens = min(float64(r.budget.size), b.tokens+1)
	if b.last.Equal(r.start) {
		b.last = r.prevLast
	}
}

// delays is the schedule past a spent budget: first, doubling up to max.
type delays struct{ first, max time.Duration }

// after returns the delay of the debt-th attempt past the budget.
func (d delays) after(debt float64) time.Duration {
	delay := d.first
	for i := 1.0; i < debt && delay < d.max; i++ {
		delay *= 2
	}
	return min(delay, d.max)
}
