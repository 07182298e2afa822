package imap

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
)

// spoolThreshold is the largest APPEND literal kept in memory; larger ones
// go to a temporary file, so concurrent large APPENDs cost disk, not RAM.
const spoolThreshold = 1 << 20

// minSpoolBudget is the least the server-wide spool budget allows in
// flight; the default is 16 maximal literals.
const minSpoolBudget = 1 << 30

// spooler holds one session's spooled APPEND literals for the command
// being read or run: unlinked temporary files in dir, their bytes claimed
// from the server-wide budget as they arrive.
type spooler struct {
	dir    string
	budget *byteBudget
	held   int64
	lits   []spooledLiteral
	buf    []byte // one chunk, reused
}

// spooledLiteral is a literal readCommand put in a file: in the command
// text only its "{n}\r\n" remains, and at is the offset where its bytes
// would have followed.
type spooledLiteral struct {
	at   int
	f    *os.File
	size int64
}

// open claims the first chunk of a literal of n bytes and creates its
// file. It fails with errBusy when the budget has less than n left, so a
// synchronizing literal that cannot fit is refused before the client
// sends it.
func (sp *spooler) open(n int64) (*os.File, error) {
	if !sp.budget.reserveIfFree(min(n, literalChunk), n) {
		return nil, errBusy
	}
	sp.held += min(n, literalChunk)
	f, err := os.CreateTemp(sp.dir, "imap-literal-*")
	if err != nil {
		return nil, fmt.Errorf("spool literal: %w", err)
	}
	// Unlinked at once: the space returns when the file is closed, even
	// after a crash.
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("spool literal: %w", err)
	}
	sp.lits = append(sp.lits, spooledLiteral{f: f, size: n})
	return f, nil
}

// reserve claims n more bytes of the budget for the literal being read.
func (sp *spooler) reserve(n int64) bool {
	if !sp.budget.reserve(n) {
		return false
	}
	sp.held += n
	return true
}

// chunk is the session's copy buffer.
func (sp *spooler) chunk() []byte {
	if sp.buf == nil {
		sp.buf = make([]byte, literalChunk)
	}
	return sp.buf
}

// release closes the command's files and returns its budget.
func (sp *spooler) release() {
	for _, l := range sp.lits {
		l.f.Close()
	}
	sp.lits = sp.lits[:0]
	sp.budget.release(sp.held)
	sp.held = 0
}

// reader returns the literal's content.
func (l *spooledLiteral) reader() io.Reader { return io.NewSectionReader(l.f, 0, l.size) }

// hasNUL reports whether the literal holds a NUL byte, which only a
// literal8 may (parser.messageLiteral).
func (l *spooledLiteral) hasNUL() (bool, error) {
	buf := make([]byte, literalChunk)
	r := l.reader()
	for {
		n, err := r.Read(buf)
		if bytes.IndexByte(buf[:n], 0) >= 0 {
			return true, nil
		}
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("spool literal: %w", err)
		}
	}
}

// byteBudget is a server-wide byte budget; reserve never waits.
type byteBudget struct {
	mu          sync.Mutex
	used, limit int64
}

func (b *byteBudget) reserve(n int64) bool { return b.reserveIfFree(n, n) }

// reserveIfFree claims n bytes if at least free bytes are left.
func (b *byteBudget) reserveIfFree(n, free int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+max(n, free) > b.limit {
		return false
	}
	b.used += n
	return true
}

func (b *byteBudget) release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
}

func (b *byteBudget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
