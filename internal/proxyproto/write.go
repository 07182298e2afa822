package proxyproto

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
)

// AppendV2 appends a v2 PROXY header for a TCP connection from src to dst
// (the client's address and the one it connected to). Addresses of
// different families are both sent as IPv6 (IPv4-mapped), as the v2
// format carries one family.
func AppendV2(b []byte, src, dst netip.AddrPort) []byte {
	s, d := src.Addr().Unmap(), dst.Addr().Unmap()
	fam := byte(0x11) // TCP over IPv4
	if !s.Is4() || !d.Is4() {
		fam = 0x21 // TCP over IPv6
		s, d = netip.AddrFrom16(s.As16()), netip.AddrFrom16(d.As16())
	}
	b = append(b, v2Signature...)
	b = append(b, 0x21, fam) // version 2, command PROXY
	alen := len(s.AsSlice())
	b = binary.BigEndian.AppendUint16(b, uint16(2*alen+4))
	b = append(b, s.AsSlice()...)
	b = append(b, d.AsSlice()...)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	return binary.BigEndian.AppendUint16(b, dst.Port())
}

// WriteV2Header writes the v2 PROXY header a server behind this one
// needs to see src as its client (a cluster front end passing on its
// client's address). Both addresses must be TCP addresses.
func WriteV2Header(w io.Writer, src, dst net.Addr) error {
	s, ok1 := src.(*net.TCPAddr)
	d, ok2 := dst.(*net.TCPAddr)
	if !ok1 || !ok2 {
		return fmt.Errorf("proxy v2 header: want TCP addresses, got %v and %v", src, dst)
	}
	_, err := w.Write(AppendV2(nil, s.AddrPort(), d.AddrPort()))
	return err
}
