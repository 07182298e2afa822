package accept

import (
	"bytes"
	"io"

	"github.com/emersion/go-smtp"
)

// ErrNUL refuses a message holding a NUL byte: RFC 5322 §2.1 and RFC 5321
// §4.1.4 allow it only with BINARYMIME, which is not offered, and stores
// and receivers that see it as a string end disagree about the message.
var ErrNUL = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
	Message: "Message content not accepted: it contains a NUL character"}

// Canonical reads a message from r with every line ending in CRLF: a bare
// CR and a bare LF each become CRLF, as Postfix does with bare newlines.
// It returns ErrNUL at the first NUL. Every role that takes mail in reads
// DATA through it, so a "<CR>.<CR><LF>" or "<LF>.<LF>" that some receiver
// would take for the end of data is never relayed or stored (SMTP
// smuggling): it becomes a dot line that is dot-stuffed on the way out.
func Canonical(r io.Reader) io.Reader { return &canonicalReader{r: r} }

type canonicalReader struct {
	r   io.Reader
	in  [4096]byte
	buf []byte // converted bytes not yet returned; backed by out
	out [2*4096 + 2]byte
	cr  bool  // the last byte converted was a CR whose next byte is unseen
	err error // from r, or ErrNUL; returned once buf is drained
}

func (c *canonicalReader) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		n, err := c.r.Read(c.in[:])
		c.convert(c.in[:n])
		if err != nil && c.err == nil {
			c.err = err
			if c.cr && err == io.EOF {
				c.buf = append(c.buf, '\n') // a CR ending the message
				c.cr = false
			}
		}
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

// convert puts the canonical form of in into c.buf. Each input byte gives
// at most two output bytes, plus one each for a CR pending from the
// previous chunk and one ending the message: out is large enough.
func (c *canonicalReader) convert(in []byte) {
	c.buf = c.out[:0]
	for len(in) > 0 {
		if c.cr {
			c.cr = false
			c.buf = append(c.buf, '\n') // completes CRLF for a CR, bare or not
			if in[0] == '\n' {
				in = in[1:]
				continue
			}
		}
		i := bytes.IndexAny(in, "\r\n\x00")
		if i < 0 {
			c.buf = append(c.buf, in...)
			return
		}
		c.buf = append(c.buf, in[:i]...)
		switch in[i] {
		case 0:
			c.err = ErrNUL
			return
		case '\r':
			c.buf = append(c.buf, '\r')
			c.cr = true
		case '\n':
			c.buf = append(c.buf, '\r', '\n')
		}
		in = in[i+1:]
	}
}
