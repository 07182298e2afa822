"""Independent client check of ACL (RFC 4314) and the shared namespace:
Python's imaplib as alice shares a mailbox with bob, then as bob uses it.

Usage: imaplib_acl.py HOST PORT
Exits non-zero with a message on the first unexpected answer.
"""
import imaplib
import sys

host, port = sys.argv[1], int(sys.argv[2])
SHARED = '"Other Users/alice/Shared"'
MSG = (b"From: Py <py@example.org>\r\nTo: bob@example.org\r\nSubject: shared\r\n"
       b"Date: Wed, 06 Mar 2024 08:00:00 +0000\r\n\r\nfor the team\r\n")


def check(cond, what):
    if not cond:
        print("FAIL:", what, file=sys.stderr)
        sys.exit(1)


a = imaplib.IMAP4(host, port)
a.login("alice", "alicepw")
check("ACL" in a.capabilities, "ACL capability %r" % (a.capabilities,))
typ, data = a.create("Shared")
check(typ == "OK", "create %r" % (data,))
typ, data = a.append("Shared", None, None, MSG)
check(typ == "OK", "append %r" % (data,))
typ, data = a.setacl("Shared", "bob", "lrs")
check(typ == "OK", "setacl %r" % (data,))
typ, data = a.getacl("Shared")
check(typ == "OK" and data == [b'"Shared" "alice" lrswipkxtea "bob" lrs'], "getacl %r" % (data,))
typ, data = a.myrights("Shared")
check(typ == "OK" and data == [b'"Shared" lrswipkxtea'], "myrights %r" % (data,))
typ, data = a.xatom("LISTRIGHTS", "Shared", "bob")  # imaplib has no listrights()
check(typ == "OK", "listrights %r" % (data,))
typ, data = a.response("LISTRIGHTS")
check(data == [b'"Shared" "bob" "" l r s w i p k x t e a'], "listrights response %r" % (data,))
a.logout()

b = imaplib.IMAP4(host, port)
b.login("bob", "bobpw")
typ, data = b.namespace()
check(typ == "OK" and data == [b'(("" "/")) (("Other Users/" "/")) NIL'], "namespace %r" % (data,))
typ, data = b.list('""', '"Other Users/*"')
check(typ == "OK" and b'"Other Users/alice/Shared"' in data[-1], "list %r" % (data,))
typ, data = b.myrights(SHARED)
check(typ == "OK" and data == [b'"Other Users/alice/Shared" lrs'], "myrights as bob %r" % (data,))
typ, data = b.select(SHARED)
check(typ == "OK" and data == [b"1"], "select shared %r" % (data,))
typ, data = b.fetch("1", "(BODY[])")
check(typ == "OK" and data[0][1] == MSG, "fetch %r" % (data,))
typ, data = b.fetch("1", "(FLAGS)")
check(typ == "OK" and b"\\Seen" in data[0], "fetch set \\Seen with the s right %r" % (data,))
typ, data = b.store("1", "+FLAGS", "(\\Deleted)")
check(typ == "NO" and data[0].startswith(b"[NOPERM]"), "store \\Deleted %r" % (data,))
typ, data = b.getacl(SHARED)
check(typ == "NO" and data[0].startswith(b"[NOPERM]"), "getacl as bob %r" % (data,))
b.logout()
print("ok")
