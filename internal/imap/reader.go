package imap

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/netserve"
)

// commandLimits bound what readCommand buffers for one command.
type commandLimits struct {
	maxLine    int   // bytes of command text (all lines, plus non-APPEND literals)
	maxLiteral int64 // one APPEND message literal
	// reserve, when set, claims memory for an APPEND literal of n bytes
	// from a server-wide budget; false means the server is too busy.
	reserve func(n int64) bool
	// spool, when set, takes APPEND literals above spoolThreshold into
	// temporary files (spool.go) instead of memory.
	spool *spooler
}

// commandError is a command rejected while reading it: the session answers
// tag with kind (BAD or NO) and goes on, unless fatal.
type commandError struct {
	tag   string
	kind  string // "BAD" or "NO"
	code  string // response code without brackets, or ""
	text  string
	fatal bool  // the stream is out of sync: answer, then close
	cause error // an internal failure behind the reply, for the log
}

func (e *commandError) Error() string { return e.kind + " " + e.text }

// readCommand reads one complete command: its lines and the literals
// between them, in wire form without the final CRLF. Before reading a
// synchronizing literal it calls cont, which sends the "+" continuation
// (RFC 3501 §7.5). Literal sizes are checked against lim before anything is
// allocated; a refused synchronizing literal ends the command (the client
// does not send it), a refused non-synchronizing one is fatal (RFC 7888 §4).
func readCommand(br *bufio.Reader, lim commandLimits, cont func() error) ([]byte, error) {
	var buf []byte
	budget := lim.maxLine
	isAppend := false
	for first := true; ; first = false {
		line, err := netserve.ReadLine(br, budget)
		if first {
			isAppend = commandIsAppend(line)
		}
		if errors.Is(err, netserve.ErrLineTooLong) {
			return nil, &commandError{tag: tagOf(buf, line), kind: "BAD", text: "Command line too long"}
		}
		if err != nil {
			return nil, err
		}
		if !utf8.Valid(line) {
			return nil, &commandError{tag: tagOf(buf, line), kind: "BAD", text: "Invalid UTF-8 in command"}
		}
		budget -= len(line) + 2
		buf = append(buf, line...)
		n, sync, ok := literalAnnouncement(line)
		if !ok {
			return buf, nil
		}
		limit := int64(budget)
		if isAppend {
			limit = lim.maxLiteral
		}
		if n > limit || n < 0 {
			e := &commandError{tag: tagOf(buf, nil), kind: "BAD", text: "Literal too large"}
			if isAppend {
				e.kind, e.code = "NO", "TOOBIG"
			}
			e.fatal = !sync
			return nil, e
		}
		if !isAppend {
			budget -= int(n)
		}
		// An APPEND literal's bytes are claimed from a server-wide budget
		// as they arrive: memory up to spoolThreshold, a file above it.
		var spooled *os.File
		claim := lim.reserve
		if isAppend && lim.spool != nil && n > spoolThreshold {
			claim = lim.spool.reserve
			spooled, err = lim.spool.open(n)
		} else if isAppend && claim != nil && !claim(min(n, literalChunk)) {
			err = errBusy
		}
		if err != nil {
			e := refusal(tagOf(buf, nil), err)
			if !sync {
				// The client sends the literal anyway: skip it and the
				// rest of its line without buffering (n <= maxLiteral).
				return nil, refuseRest(br, n, lim, e)
			}
			return nil, e
		}
		if sync {
			if err := cont(); err != nil {
				return nil, err
			}
		}
		buf = append(buf, '\r', '\n')
		tag := tagOf(buf, nil)
		switch {
		case spooled != nil:
			err = readChunks(br, n, lim, tag, claim, func(p []byte) error {
				_, err := spooled.Write(p)
				return err
			})
			lim.spool.lits[len(lim.spool.lits)-1].at = len(buf)
		case isAppend && claim != nil:
			err = readChunks(br, n, lim, tag, claim, func(p []byte) error {
				buf = append(buf, p...)
				return nil
			})
		default:
			start := len(buf)
			buf = append(buf, make([]byte, n)...)
			_, err = io.ReadFull(br, buf[start:])
		}
		if err != nil {
			return nil, err
		}
	}
}

// literalChunk is how much of an APPEND literal is claimed from a budget
// and read at a time.
const literalChunk = 64 << 10

// errBusy: a server-wide budget for APPEND literals is spent.
var errBusy = errors.New("imap: literal budget exhausted")

// readChunks reads a literal of n bytes chunk by chunk into put, its first
// chunk already claimed. The rest is claimed as the bytes arrive, not on
// announcement, so a client that announces 50 MiB and then trickles holds
// only what it has sent. When claim or put fails midway, the rest of the
// literal and of its command is skipped and the command refused.
func readChunks(br *bufio.Reader, n int64, lim commandLimits, tag string, claim func(int64) bool, put func([]byte) error) error {
	chunk := lim.chunk()
	for got := int64(0); got < n; {
		c := min(n-got, int64(len(chunk)))
		if got > 0 && !claim(c) {
			return refuseRest(br, n-got, lim, refusal(tag, errBusy))
		}
		if _, err := io.ReadFull(br, chunk[:c]); err != nil {
			return err
		}
		got += c
		if err := put(chunk[:c]); err != nil {
			return refuseRest(br, n-got, lim, refusal(tag, err))
		}
	}
	return nil
}

// chunk is the buffer readChunks reads through: the session's, kept with
// its spooler, or a new one.
func (lim commandLimits) chunk() []byte {
	if lim.spool != nil {
		return lim.spool.chunk()
	}
	return make([]byte, literalChunk)
}

// refuseRest skips the unread rest of a literal and returns e.
func refuseRest(br *bufio.Reader, rest int64, lim commandLimits, e *commandError) error {
	if err := skipLiteral(br, rest, lim.maxLine, lim.maxLiteral); err != nil {
		return err
	}
	return e
}

// refusal is the reply to an APPEND literal that cannot be taken: a spent
// budget is [LIMIT]; a full disk is [OVERQUOTA], as for a store write
// (errors.go); anything else is a temporary failure the session logs.
func refusal(tag string, err error) *commandError {
	e := &commandError{tag: tag, kind: "NO"}
	switch {
	case errors.Is(err, errBusy):
		e.code, e.text = "LIMIT", "Server busy, try again later"
	case errors.Is(mailstore.NoSpace(err), mailstore.ErrNoSpace):
		e.code, e.text, e.cause = "OVERQUOTA", "Not enough disk space", err
	default:
		e.code, e.text, e.cause = "UNAVAILABLE", "Cannot take the message now, try again later", err
	}
	return e
}

// skipLiteral discards the rest of a refused literal and of its command,
// leaving the stream at the next command: further non-synchronizing
// literals of the command (MULTIAPPEND) are skipped too, while a client
// announcing a synchronizing one waits for a continuation it never gets.
// A literal above maxLiteral cannot be skipped safely; the caller has
// checked the first, and a later one ends the session.
func skipLiteral(br *bufio.Reader, n int64, maxLine int, maxLiteral int64) error {
	for {
		if _, err := io.CopyN(io.Discard, br, n); err != nil {
			return err
		}
		line, err := netserve.ReadLine(br, maxLine)
		if errors.Is(err, netserve.ErrLineTooLong) {
			return nil
		}
		if err != nil {
			return err
		}
		next, sync, ok := literalAnnouncement(line)
		if !ok || sync {
			return nil
		}
		if next < 0 || next > maxLiteral {
			return &commandError{tag: "*", kind: "BAD", text: "Literal too large", fatal: true}
		}
		n = next
	}
}

// literalAnnouncement reports whether line ends with "{n}" or "{n+}".
// A number too large for int64 yields n = -1.
func literalAnnouncement(line []byte) (n int64, sync, ok bool) {
	if len(line) < 3 || line[len(line)-1] != '}' {
		return 0, false, false
	}
	open := bytes.LastIndexByte(line, '{')
	if open < 0 {
		return 0, false, false
	}
	digits := line[open+1 : len(line)-1]
	sync = true
	if len(digits) > 0 && digits[len(digits)-1] == '+' {
		digits, sync = digits[:len(digits)-1], false
	}
	if len(digits) == 0 {
		return 0, false, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false, false
		}
	}
	v, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil {
		return -1, sync, true
	}
	return v, sync, true
}

// commandIsAppend peeks at the first line: "tag APPEND ...". Only APPEND
// gets the large literal limit.
func commandIsAppend(line []byte) bool {
	f := bytes.SplitN(line, []byte(" "), 3)
	return len(f) >= 2 && bytes.EqualFold(f[1], []byte("APPEND"))
}

// tagOf extracts the tag for an error reply: the first word of the command
// if it is a valid tag, else "*".
func tagOf(buf, line []byte) string {
	b := buf
	if len(b) == 0 {
		b = line
	}
	i := bytes.IndexByte(b, ' ')
	if i <= 0 {
		return "*"
	}
	tag := b[:i]
	for _, c := range tag {
		if !isTagChar(c) {
			return "*"
		}
	}
	return string(tag)
}
