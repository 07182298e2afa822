package imap

import (
	"encoding/base64"
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Modified UTF-7 mailbox names, RFC 3501 §5.1.3: printable ASCII stands for
// itself except "&", which is "&-"; other characters are UTF-16 in
// modified base64 ("," instead of "/") between "&" and "-".

var mutf7Enc = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").WithPadding(base64.NoPadding)

var errBadMUTF7 = errors.New("invalid modified UTF-7 mailbox name")

func encodeMUTF7(s string) string {
	var sb strings.Builder
	var pending []uint16
	flush := func() {
		if len(pending) == 0 {
			return
		}
		b := make([]byte, 2*len(pending))
		for i, u := range pending {
			b[2*i], b[2*i+1] = byte(u>>8), byte(u)
		}
		sb.WriteByte('&')
		sb.WriteString(mutf7Enc.EncodeToString(b))
		sb.WriteByte('-')
		pending = pending[:0]
	}
	for _, r := range s {
		if r >= 0x20 && r <= 0x7e {
			flush()
			if r == '&' {
				sb.WriteString("&-")
			} else {
				sb.WriteRune(r)
			}
			continue
		}
		pending = utf16.AppendRune(pending, r)
	}
	flush()
	return sb.String()
}

func decodeMUTF7(s string) (string, error) {
	var sb strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return "", errBadMUTF7
		}
		if c != '&' {
			sb.WriteByte(c)
			i++
			continue
		}
		end := strings.IndexByte(s[i:], '-')
		if end < 0 {
			return "", errBadMUTF7
		}
		enc := s[i+1 : i+end]
		i += end + 1
		if enc == "" {
			sb.WriteByte('&')
			continue
		}
		b, err := mutf7Enc.DecodeString(enc)
		if err != nil || len(b)%2 != 0 {
			return "", errBadMUTF7
		}
		u := make([]uint16, len(b)/2)
		for j := range u {
			u[j] = uint16(b[2*j])<<8 | uint16(b[2*j+1])
		}
		runes := utf16.Decode(u)
		for _, r := range runes {
			// Printable ASCII must not be encoded, and surrogates must pair.
			if (r >= 0x20 && r <= 0x7e) || r == utf8.RuneError {
				return "", errBadMUTF7
			}
			sb.WriteRune(r)
		}
	}
	return sb.String(), nil
}
