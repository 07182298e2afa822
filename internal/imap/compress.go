package imap

import (
	"bufio"
	"compress/flate"
	"errors"
	"io"

	kflate "github.com/klauspost/compress/flate"
)

// compressFeature: COMPRESS=DEFLATE (RFC 4978). It is offered once the
// client is authenticated, when compressing can no longer help an
// attacker probe credentials, and until it is active (unless
// Options.NoCompress).
var compressFeature = feature{
	caps: func(s *session) []string {
		if s.state == stateNotAuth || s.deflate {
			return nil
		}
		return []string{"COMPRESS=DEFLATE"}
	},
	commands: map[string]commandSpec{
		"COMPRESS": {states: stateAuthOrSelect, handle: handleCompress},
	},
}

// deflateBufferSize is the response buffer above the compressor: each
// buffer flush is a deflate sync flush, so it should hold a whole typical
// response to keep the ratio good.
const deflateBufferSize = 64 << 10

func handleCompress(s *session, c *command) error {
	if err := c.p.sp(); err != nil {
		return err
	}
	mech, err := c.p.atom()
	if err != nil {
		return err
	}
	if err := c.p.end(); err != nil {
		return err
	}
	if upperASCII(mech) != "DEFLATE" {
		return errBad("", "Unknown compression mechanism") // RFC 4978 §3
	}
	if s.deflate {
		return errNo("COMPRESSIONACTIVE", "DEFLATE is already active") // RFC 4978 §3
	}
	// RFC 4978 §3: the tagged OK is the last uncompressed response; the
	// client's next byte is the first of its deflate stream.
	if err := s.writef("%s OK DEFLATE active", c.tag); err != nil {
		return err
	}
	if err := s.flush(); err != nil {
		return err
	}
	s.startDeflate()
	return errNoReply // finish counts it as OK
}

// startDeflate wraps the session's reader and writer in raw deflate
// (RFC 1951, no zlib header), above TLS when TLS is in use. The reader
// keeps the old bufio.Reader underneath, so bytes it already buffered are
// decompressed too.
//
// The inflater is klauspost's with WithPartialBlock: it hands out what it
// has inflated at every block end. compress/flate's does so only at a
// stored (byte-aligned, Z_SYNC_FLUSH) block or a full window, so a client
// flushing with Z_PARTIAL_FLUSH, as isync/mbsync does, would wait forever
// for the reply to its first compressed command.
//
// Known problem, why config turns it off by default: mbsync pushing 300
// messages of 2-50 KB (../shared/bench clients step) times out under
// COMPRESS, while the same push without it and small syncs with it pass.
func (s *session) startDeflate() {
	s.br = bufio.NewReader(streamEndReader{kflate.NewReaderOpts(s.br, kflate.WithPartialBlock())})
	// BestSpeed: its compressor needs about a quarter of the memory of
	// the default level, which matters at one per connection, and IMAP
	// text still compresses well.
	fw, _ := flate.NewWriter(s.conn(), flate.BestSpeed) // error only for a bad level
	s.mu.Lock()
	s.bw = bufio.NewWriterSize(syncFlushWriter{fw}, deflateBufferSize)
	s.mu.Unlock()
	s.deflate = true
}

// syncFlushWriter sync-flushes the compressor after every write, so that
// each response the session flushes reaches the client whole (RFC 4978 §4:
// the server must flush after each response) without session.flush having
// to know about compression.
type syncFlushWriter struct{ fw *flate.Writer }

func (w syncFlushWriter) Write(p []byte) (int, error) {
	n, err := w.fw.Write(p)
	if err != nil {
		return n, err
	}
	return n, w.fw.Flush()
}

var _ io.Writer = syncFlushWriter{}

// streamEndReader reports a connection closed inside the deflate stream,
// which is how every compressed session ends, as io.EOF: the session
// then logs "client closed" rather than a read error.
type streamEndReader struct{ r io.Reader }

func (r streamEndReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return n, err
}
