package proxyproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

const (
	// v1MaxLen is the spec's bound on a v1 line, "PROXY" through CRLF.
	v1MaxLen = 107
	// v2MaxLen caps a v2 header (16 fixed bytes plus its length field).
	// The field allows 64 KiB, but addresses need at most 216 bytes; the rest
	// is TLVs we skip, and accepting more would let a client make us buffer it.
	v2MaxLen = 4096
	// maxHeaderLen is the most a connection's header reading ever buffers.
	maxHeaderLen = v2MaxLen
)

var (
	v1Prefix    = []byte("PROXY ")
	v2Signature = []byte("\r\n\r\n\x00\r\nQUIT\n")

	// errIncomplete means the bytes so far are a valid start of a header
	// and more must be read before it can be decided.
	errIncomplete = errors.New("proxy header incomplete")
	errNoHeader   = errors.New("no proxy protocol header")
)

// header is a parsed PROXY header. Local means the header carries no usable
// addresses (v1 UNKNOWN, v2 LOCAL or UNSPEC): the connection keeps its real ones.
type header struct {
	Local    bool
	Src, Dst netip.AddrPort
}

// parseHeader decides whether b starts with a complete PROXY header (v1 or
// v2, told apart by their first bytes). It returns the header and its length
// in bytes, errIncomplete when b is a valid prefix that needs more bytes, or
// another error when b cannot be a header. It is pure so the fuzz test can
// drive it directly.
func parseHeader(b []byte) (header, int, error) {
	switch {
	case hasPrefixOrIsPrefix(b, v1Prefix):
		return parseV1(b)
	case hasPrefixOrIsPrefix(b, v2Signature):
		return parseV2(b)
	}
	return header{}, 0, errNoHeader
}

// hasPrefixOrIsPrefix reports whether b starts with p, or b is a start of p.
func hasPrefixOrIsPrefix(b, p []byte) bool {
	n := min(len(b), len(p))
	return bytes.Equal(b[:n], p[:n])
}

// parseV1 parses "PROXY TCP4|TCP6 src dst sport dport\r\n" or "PROXY UNKNOWN...\r\n".
func parseV1(b []byte) (header, int, error) {
	if len(b) < len(v1Prefix) {
		return header{}, 0, errIncomplete
	}
	end := bytes.Index(b[:min(len(b), v1MaxLen)], []byte("\r\n"))
	if end < 0 {
		if len(b) >= v1MaxLen {
			return header{}, 0, fmt.Errorf("proxy v1: no CRLF within %d bytes", v1MaxLen)
		}
		if bytes.IndexByte(b, '\n') >= 0 {
			return header{}, 0, errors.New("proxy v1: bare LF")
		}
		return header{}, 0, errIncomplete
	}
	n := end + 2
	line := string(b[len(v1Prefix):end])
	if line == "UNKNOWN" || strings.HasPrefix(line, "UNKNOWN ") {
		// The spec lets the sender append anything after UNKNOWN; it is ignored.
		return header{Local: true}, n, nil
	}
	f := strings.Split(line, " ")
	if len(f) != 5 {
		return header{}, 0, fmt.Errorf("proxy v1: %d fields, want 5", len(f))
	}
	want4 := f[0] == "TCP4"
	if !want4 && f[0] != "TCP6" {
		return header{}, 0, fmt.Errorf("proxy v1: unknown protocol %q", f[0])
	}
	src, err := parseV1Addr(f[1], f[3], want4)
	if err != nil {
		return header{}, 0, fmt.Errorf("proxy v1 source: %w", err)
	}
	dst, err := parseV1Addr(f[2], f[4], want4)
	if err != nil {
		return header{}, 0, fmt.Errorf("proxy v1 destination: %w", err)
	}
	return header{Src: src, Dst: dst}, n, nil
}

func parseV1Addr(ip, port string, want4 bool) (netip.AddrPort, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if a.Is4() != want4 || a.Zone() != "" {
		return netip.AddrPort{}, fmt.Errorf("address %q does not match the protocol", ip)
	}
	// The spec writes ports as plain decimal; leading zeros are not canonical.
	if len(port) > 1 && port[0] == '0' {
		return netip.AddrPort{}, fmt.Errorf("port %q has a leading zero", port)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("port: %w", err)
	}
	return netip.AddrPortFrom(a, uint16(p)), nil
}

// parseV2 parses the binary header: signature, version/command, family/protocol,
// big-endian length, then addresses and TLVs (skipped).
func parseV2(b []byte) (header, int, error) {
	if len(b) < 16 {
		return header{}, 0, errIncomplete
	}
	if b[12]>>4 != 2 {
		return header{}, 0, fmt.Errorf("proxy v2: version %d", b[12]>>4)
	}
	n := 16 + int(binary.BigEndian.Uint16(b[14:16]))
	if n > v2MaxLen {
		return header{}, 0, fmt.Errorf("proxy v2: header of %d bytes exceeds %d", n, v2MaxLen)
	}
	cmd, fam, proto := b[12]&0xf, b[13]>>4, b[13]&0xf
	if cmd > 1 {
		return header{}, 0, fmt.Errorf("proxy v2: unknown command %d", cmd)
	}
	if fam > 3 || proto > 2 {
		return header{}, 0, fmt.Errorf("proxy v2: unknown family/protocol %#x", b[13])
	}
	if len(b) < n {
		return header{}, 0, errIncomplete
	}
	body := b[16:n]
	if cmd == 0 || fam == 0 {
		// LOCAL (health checks from the proxy itself), or PROXY with UNSPEC,
		// which the spec lets the receiver accept with the real addresses.
		return header{Local: true}, n, nil
	}
	if proto != 1 || fam == 3 {
		// We serve TCP only: a UDP or UNIX header means a misconfigured proxy,
		// and guessing an address for it would be worse than refusing.
		return header{}, 0, fmt.Errorf("proxy v2: unsupported family/protocol %#x", b[13])
	}
	alen := 4
	if fam == 2 {
		alen = 16
	}
	if len(body) < 2*alen+4 {
		return header{}, 0, fmt.Errorf("proxy v2: %d address bytes, want %d", len(body), 2*alen+4)
	}
	src, _ := netip.AddrFromSlice(body[:alen])
	dst, _ := netip.AddrFromSlice(body[alen : 2*alen])
	ports := body[2*alen:]
	return header{
		Src: netip.AddrPortFrom(src, binary.BigEndian.Uint16(ports[0:2])),
		Dst: netip.AddrPortFrom(dst, binary.BigEndian.Uint16(ports[2:4])),
	}, n, nil
}
