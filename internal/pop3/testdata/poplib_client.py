"""Drive the POP3 server with Python's poplib, a client sharing no code
with ours. Usage: poplib_client.py HOST PORT USER PASSWORD.
The maildrop holds 3 messages; prints "ok" on success."""
import poplib
import ssl
import sys

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


# Session 1: STLS, USER/PASS, read everything, delete message 1.
p = poplib.POP3(host, port, timeout=10)
caps = p.capa()
check("STLS" in caps and "UIDL" in caps and "TOP" in caps, "capa %r" % caps)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
p.stls(context=ctx)
p.user(user)
p.pass_(password)
count, total = p.stat()
check(count == 3, "stat count %d" % count)
_, listing, _ = p.list()
sizes = {int(n): int(s) for n, s in (l.split() for l in listing)}
check(sum(sizes.values()) == total, "list sizes %r vs stat %d" % (sizes, total))
_, uidls, _ = p.uidl()
uids = dict(l.decode().split() for l in uidls)
check(len(set(uids.values())) == 3, "uidl not unique %r" % uids)
for n in range(1, 4):
    _, lines, octets = p.retr(n)
    # poplib counts the un-stuffed octets with CRLF: LIST must agree.
    check(octets == sizes[n], "retr %d: %d octets, list said %d" % (n, octets, sizes[n]))
    check(sum(len(l) + 2 for l in lines) == sizes[n], "retr %d lines" % n)
_, lines, _ = p.retr(2)
check(b".starts with a dot" in lines, "byte-stuffing not undone: %r" % lines)
_, top, _ = p.top(2, 1)
blank = top.index(b"")
check(len(top) == blank + 2, "top 2 1 = %r" % top)
p.dele(1)
check(p.stat()[0] == 2, "stat after dele")
p.quit()

# Session 2: the deletion is committed, the other UIDLs are unchanged.
p = poplib.POP3(host, port, timeout=10)
p.user(user)
p.pass_(password)
count, _ = p.stat()
check(count == 2, "second session sees %d messages" % count)
_, uidls, _ = p.uidl()
uids2 = [l.decode().split()[1] for l in uidls]
check(uids2 == [uids["2"], uids["3"]], "uidl changed: %r vs %r" % (uids2, uids))
p.quit()
print("ok")
