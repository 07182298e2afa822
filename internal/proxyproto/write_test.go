package proxyproto

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
)

// TestWriteV2Header: what WriteV2Header writes, the package's own parser
// reads back to the same addresses, for both families and a mixed pair.
func TestWriteV2Header(t *testing.T) {
	for _, tc := range []struct{ src, dst, wantSrc, wantDst string }{
		{"192.0.2.7:40000", "10.0.0.1:143", "192.0.2.7:40000", "10.0.0.1:143"},
		{"[2001:db8::7]:40000", "[2001:db8::1]:993", "[2001:db8::7]:40000", "[2001:db8::1]:993"},
		{"192.0.2.7:1", "[2001:db8::1]:110", "[::ffff:192.0.2.7]:1", "[2001:db8::1]:110"},
	} {
		var buf bytes.Buffer
		src := net.TCPAddrFromAddrPort(netip.MustParseAddrPort(tc.src))
		dst := net.TCPAddrFromAddrPort(netip.MustParseAddrPort(tc.dst))
		if err := WriteV2Header(&buf, src, dst); err != nil {
			t.Fatal(err)
		}
		buf.WriteString("A1 NOOP\r\n")
		h, n, err := parseHeader(buf.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		if h.Local || h.Src.String() != tc.wantSrc || h.Dst.String() != tc.wantDst {
			t.Errorf("%s -> %s read back as %+v", tc.src, tc.dst, h)
		}
		if rest := buf.String()[n:]; rest != "A1 NOOP\r\n" {
			t.Errorf("header length %d leaves %q", n, rest)
		}
	}
	if err := WriteV2Header(&bytes.Buffer{}, &net.UnixAddr{Name: "/x"}, &net.TCPAddr{}); err == nil {
		t.Error("a unix address was accepted")
	}
}
