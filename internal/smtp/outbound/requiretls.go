package outbound

// requireTLSErr says why cn may not carry a REQUIRETLS message (RFC 8689
// §4.2.1), or nil. Checked: STARTTLS was negotiated, the certificate
// verifies (Options.TLS roots, else the system's) for the MX host name,
// and the server offers REQUIRETLS, so the requirement travels with the
// message. Not checked, as outbound has neither yet: that the MX lookup
// was DNSSEC-signed or the host is listed by an MTA-STS policy, and DANE.
//
// The failure is temporary (X.7.30, RFC 8689 §5): the host may be fixed
// before the queue's MaxAge, when the runner fails the recipient and the
// DSN reports 5.7.30. Other MX hosts are not tried for the message in the
// same attempt; the connection stays usable for ordinary messages.
func requireTLSErr(cn *conn) *deliveryError {
	switch {
	case cn.tls == "":
		return tempErr("4.7.30", "REQUIRETLS: host %s[%s] offered no working STARTTLS; not sent in plaintext", cn.host, cn.ip)
	case !cn.verified:
		return tempErr("4.7.30", "REQUIRETLS: the certificate of host %s[%s] does not verify for that name", cn.host, cn.ip)
	}
	if ok, _ := cn.c.Extension("REQUIRETLS"); !ok {
		return tempErr("4.7.30", "REQUIRETLS: host %s[%s] does not offer REQUIRETLS", cn.host, cn.ip)
	}
	return nil
}
