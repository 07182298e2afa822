package netserve

import (
	"bufio"
	"errors"
	"io"
)

// ErrLineTooLong means a line exceeded the limit; it was discarded up to
// its LF.
var ErrLineTooLong = errors.New("line too long")

// ReadLine reads one line of at most max bytes, without its ending (CRLF or
// a bare LF). A longer line is discarded up to its end without being
// buffered whole, and ErrLineTooLong is returned with the line's first
// bytes (enough for an IMAP tag).
func ReadLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > max+2 {
			if line == nil {
				line = append(line, chunk[:min(len(chunk), 64)]...)
			}
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err != nil {
				return line, err
			}
			return line, ErrLineTooLong
		}
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return line, err
		}
		line = line[:len(line)-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		return line, nil
	}
}
