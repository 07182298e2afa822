package imap

// interruptEvery is how many iterations a CPU-bound loop runs between
// looks at the session context.
const interruptEvery = 256

// interrupted returns the session context's error on every
// interruptEvery-th iteration i, so LIST, SEARCH, SORT, THREAD and FETCH
// loops over a large mailbox or hierarchy stop soon after the client hangs
// up or the server is forced down; store calls see the context anyway.
func (s *session) interrupted(i int) error {
	if i%interruptEvery != 0 {
		return nil
	}
	return s.ctx.Err()
}
