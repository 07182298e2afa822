package imapmsg

import (
	"encoding/base64"
	"io"
	"mime"
	"strings"
	"unicode/utf8"
)

// decodeHeaderValue decodes RFC 2047 encoded words in an unfolded header
// value to UTF-8. Malformed words are kept as written, and unknown
// charsets are passed through (invalid UTF-8 replaced), so it never fails.
func decodeHeaderValue(v string) string {
	if !strings.Contains(v, "=?") {
		return toValidUTF8(v)
	}
	d := mime.WordDecoder{CharsetReader: func(label string, r io.Reader) (io.Reader, error) {
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		return strings.NewReader(decodeCharset(label, b)), nil
	}}
	s, err := d.DecodeHeader(v)
	if err != nil {
		return toValidUTF8(v)
	}
	return toValidUTF8(s)
}

// decodeBody undoes a Content-Transfer-Encoding (RFC 2045 §6) leniently:
// bad quoted-printable escapes are kept literally and base64 decoding
// skips characters outside the alphabet and stops at the first bad quantum.
func decodeBody(enc string, b []byte) []byte {
	switch strings.ToLower(enc) {
	case "quoted-printable":
		return decodeQP(b)
	case "base64":
		return decodeBase64(b)
	}
	return b
}

// decodeQP decodes quoted-printable text (RFC 2045 §6.7).
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		switch {
		case i+1 < len(b) && b[i+1] == '\n':
			i++ // soft line break
		case i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n':
			i += 2
		case i+2 < len(b) && unhex(b[i+1]) >= 0 && unhex(b[i+2]) >= 0:
			out = append(out, byte(unhex(b[i+1])<<4|unhex(b[i+2])))
			i += 2
		default:
			// Soft break with trailing white space, or a stray '='.
			j := i + 1
			for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
				j++
			}
			if j < len(b) && (b[j] == '\n' || b[j] == '\r') {
				i = j
				if b[j] == '\r' && j+1 < len(b) && b[j+1] == '\n' {
					i++
				}
				continue
			}
			out = append(out, c)
		}
	}
	return out
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// decodeBase64 decodes base64 (RFC 2045 §6.8), ignoring characters
// outside the alphabet as the RFC asks.
func decodeBase64(b []byte) []byte {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' {
			clean = append(clean, c)
		}
	}
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1] // a lone sextet carries no full byte
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, _ := base64.RawStdEncoding.Decode(out, clean)
	return out[:n]
}

// decodeCharset converts text in the named charset to UTF-8. Only the
// charsets common in mail without x/text are converted (UTF-8, US-ASCII,
// ISO-8859-1, ISO-8859-15, Windows-1252); others are passed through with
// invalid UTF-8 replaced, which still lets ASCII search terms match.
func decodeCharset(label string, b []byte) string {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "l1", "cp819", "iso-ir-100", "ibm819":
		return decode8bit(b, nil)
	case "windows-1252", "cp1252", "x-cp1252":
		return decode8bit(b, &cp1252)
	case "iso-8859-15", "iso8859-15", "iso_8859-15", "latin-9", "latin9":
		return decode8bit(b, &latin9)
	}
	return toValidUTF8(string(b))
}

// decode8bit maps single-byte text to UTF-8: bytes 0x80–0xBF through
// high when given, everything else as Latin-1.
func decode8bit(b []byte, high *[64]rune) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for _, c := range b {
		switch {
		case c < 0x80:
			sb.WriteByte(c)
		case high != nil && c < 0xC0 && high[c-0x80] != 0:
			sb.WriteRune(high[c-0x80])
		default:
			sb.WriteRune(rune(c))
		}
	}
	return sb.String()
}

// cp1252 holds the Windows-1252 code points for 0x80–0x9F that differ
// from Latin-1 (zero: same as Latin-1).
var cp1252 = [64]rune{
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
}

// latin9 holds the ISO-8859-15 code points for 0xA0–0xBF that differ from Latin-1.
var latin9 = [64]rune{
	0x24: 0x20AC, 0x26: 0x0160, 0x28: 0x0161, 0x34: 0x017D, 0x38: 0x017E, 0x3C: 0x0152, 0x3D: 0x0153, 0x3E: 0x0178,
}

func toValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
