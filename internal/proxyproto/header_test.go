package proxyproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"testing"
)

// v1Header renders h as a v1 line, the way HAProxy sends it.
func v1Header(h header) []byte {
	if h.Local {
		return []byte("PROXY UNKNOWN\r\n")
	}
	proto := "TCP6"
	if h.Src.Addr().Is4() {
		proto = "TCP4"
	}
	return fmt.Appendf(nil, "PROXY %s %s %s %d %d\r\n", proto,
		h.Src.Addr(), h.Dst.Addr(), h.Src.Port(), h.Dst.Port())
}

// v2Header renders h as a v2 header followed by tlvs (opaque bytes).
func v2Header(h header, tlvs []byte) []byte {
	b := append([]byte(nil), v2Signature...)
	var body []byte
	switch {
	case h.Local:
		b = append(b, 0x20, 0x00)
	case h.Src.Addr().Is4():
		b = append(b, 0x21, 0x11)
		body = append(body, h.Src.Addr().AsSlice()...)
		body = append(body, h.Dst.Addr().AsSlice()...)
	default:
		b = append(b, 0x21, 0x21)
		body = append(body, h.Src.Addr().AsSlice()...)
		body = append(body, h.Dst.Addr().AsSlice()...)
	}
	if !h.Local {
		body = binary.BigEndian.AppendUint16(body, h.Src.Port())
		body = binary.BigEndian.AppendUint16(body, h.Dst.Port())
	}
	body = append(body, tlvs...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	return append(b, body...)
}

var (
	h4 = header{Src: netip.MustParseAddrPort("192.0.2.7:51000"), Dst: netip.MustParseAddrPort("198.51.100.1:25")}
	h6 = header{Src: netip.MustParseAddrPort("[2001:db8::7]:51000"), Dst: netip.MustParseAddrPort("[2001:db8::1]:993")}
)

func TestParseHeader(t *testing.T) {
	tlv := []byte{0x04, 0x00, 0x03, 'a', 'b', 'c'} // PP2_TYPE_NOOP, skipped
	for _, tc := range []struct {
		name string
		in   []byte
		want header
	}{
		{"v1 tcp4", v1Header(h4), h4},
		{"v1 tcp6", v1Header(h6), h6},
		{"v1 unknown", []byte("PROXY UNKNOWN\r\n"), header{Local: true}},
		{"v1 unknown with junk", []byte("PROXY UNKNOWN ffff::1 whatever\r\n"), header{Local: true}},
		{"v2 tcp4", v2Header(h4, nil), h4},
		{"v2 tcp6 with tlv", v2Header(h6, tlv), h6},
		{"v2 local", v2Header(header{Local: true}, tlv), header{Local: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append(append([]byte(nil), tc.in...), "EHLO x\r\n"...)
			got, n, err := parseHeader(in)
			if err != nil || got != tc.want || n != len(tc.in) {
				t.Fatalf("parseHeader = %+v, %d, %v; want %+v, %d", got, n, err, tc.want, len(tc.in))
			}
			for i := range len(tc.in) {
				if _, _, err := parseHeader(tc.in[:i]); !errors.Is(err, errIncomplete) {
					t.Fatalf("prefix of %d bytes: err %v, want incomplete", i, err)
				}
			}
		})
	}
}

func TestParseHeaderRejects(t *testing.T) {
	v2 := v2Header(h4, nil)
	mutate := func(i int, v byte) []byte {
		b := append([]byte(nil), v2...)
		b[i] = v
		return b
	}
	long := append([]byte(nil), v2Signature...)
	long = append(long, 0x21, 0x11, 0x10, 0x00)
	for _, tc := range []struct{ name, in string }{
		{"smtp", "EHLO example.org\r\n"},
		{"lowercase", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"},
		{"tcp4 with v6", "PROXY TCP4 ::1 ::2 1 2\r\n"},
		{"tcp6 with v4", "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"},
		{"port too big", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"},
		{"leading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"},
		{"signed port", "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n"},
		{"double space", "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"},
		{"missing field", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"},
		{"zone", "PROXY TCP6 fe80::1%eth0 fe80::2 1 2\r\n"},
		{"udp4", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"},
		{"bare lf", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"},
		{"v1 too long", "PROXY UNKNOWN " + string(bytes.Repeat([]byte("x"), 100)) + "\r\n"},
		{"v2 version 1", string(mutate(12, 0x11))},
		{"v2 command 2", string(mutate(12, 0x22))},
		{"v2 udp", string(mutate(13, 0x12))},
		{"v2 unix", string(mutate(13, 0x31))},
		{"v2 short addresses", string(mutate(15, 8)[:24])},
		{"v2 too long", string(long)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, n, err := parseHeader([]byte(tc.in))
			if err == nil || errors.Is(err, errIncomplete) {
				t.Fatalf("parseHeader(%q) = %+v, %d, %v; want a rejection", tc.in, h, n, err)
			}
		})
	}
}

// FuzzParseHeader checks that the parser never panics, that a header it
// accepts lies within its input, and that the addresses it returns are the
// ones the header encodes: re-encoding them parses to the same header.
func FuzzParseHeader(f *testing.F) {
	for _, h := range []header{h4, h6, {Local: true}} {
		f.Add(v1Header(h))
		f.Add(v2Header(h, []byte{0x04, 0x00, 0x01, 0x00}))
	}
	f.Add([]byte("PROXY UNKNOWN whatever\r\nEHLO"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := parseHeader(b)
		if err != nil {
			if h != (header{}) || n != 0 {
				t.Fatalf("error %v with header %+v, length %d", err, h, n)
			}
			return
		}
		if n <= 0 || n > len(b) || n > maxHeaderLen {
			t.Fatalf("header length %d for %d input bytes", n, len(b))
		}
		if h.Local {
			if h.Src.IsValid() || h.Dst.IsValid() {
				t.Fatalf("local header with addresses %+v", h)
			}
			return
		}
		if !h.Src.IsValid() || !h.Dst.IsValid() || h.Src.Addr().Is4() != h.Dst.Addr().Is4() {
			t.Fatalf("invalid addresses %+v", h)
		}
		enc := v2Header(h, nil)
		if bytes.HasPrefix(b, v1Prefix) {
			if !bytes.HasSuffix(b[:n], []byte("\r\n")) || n > v1MaxLen {
				t.Fatalf("v1 header %q accepted", b[:n])
			}
			enc = v1Header(h)
		}
		if back, _, err := parseHeader(enc); err != nil || back != h {
			t.Fatalf("re-encoded %+v parses to %+v, %v", h, back, err)
		}
	})
}
