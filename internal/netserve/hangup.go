package netserve

import "time"

// hangupPoll is how long one poll waits before it looks whether it was
// stopped; it bounds how long the watcher outlives its command, and so how
// long closing the connection then waits for the watcher's hold on the
// socket. Watching starts after one such interval: most commands end
// before and cost neither a goroutine nor a system call.
const hangupPoll = 100 * time.Millisecond
