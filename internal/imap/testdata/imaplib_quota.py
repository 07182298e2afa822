"""Independent client check of QUOTA (RFC 9208) with Python's imaplib.

Usage: imaplib_quota.py HOST PORT USER PASSWORD
The account holds one message under 1 KiB and has limits of 5 MiB and
1000 messages. Exits non-zero with a message on the first unexpected answer.
"""
import imaplib
import sys

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


def check(cond, what):
    if not cond:
        print("FAIL:", what, file=sys.stderr)
        sys.exit(1)


m = imaplib.IMAP4(host, port)
check("QUOTA" in m.capabilities, "capabilities %r" % (m.capabilities,))
check(m.login(user, password)[0] == "OK", "login")

typ, data = m.getquotaroot("INBOX")
check(typ == "OK", "getquotaroot %r" % (data,))
roots, quotas = data
check(roots == [b'"INBOX" ""'], "QUOTAROOT %r" % (roots,))
check(quotas == [b'"" (STORAGE 1 5120 MESSAGE 1 1000)'], "QUOTA %r" % (quotas,))

typ, data = m.getquota('""')
check(typ == "OK" and data == [b'"" (STORAGE 1 5120 MESSAGE 1 1000)'], "getquota %r" % (data,))

typ, data = m.setquota('""', "(STORAGE 1)")
check(typ == "NO" and data[0].startswith(b"[NOPERM]"), "setquota %s %r" % (typ, data))
m.logout()
print("ok")
