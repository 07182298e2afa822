"""Independent client check: Python's imaplib against the Rookery server.

Usage: imaplib_client.py HOST PORT USER PASSWORD
Exits non-zero with a message on the first unexpected answer.
"""
import imaplib
import sys

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

MSG = (b"From: Py <py@example.org>\r\nTo: alice@example.org\r\nSubject: from python\r\n"
       b"Date: Wed, 06 Mar 2024 08:00:00 +0000\r\n\r\nsnake body line\r\n")


def check(cond, what):
    if not cond:
        print("FAIL:", what, file=sys.stderr)
        sys.exit(1)


m = imaplib.IMAP4(host, port)
check("IMAP4REV1" in m.capabilities, "capabilities %r" % (m.capabilities,))
typ, _ = m.login(user, password)
check(typ == "OK", "login")

typ, data = m.append("INBOX", r"(\Flagged)", imaplib.Time2Internaldate(1709712000), MSG)
check(typ == "OK" and b"APPENDUID" in data[0], "append %r" % (data,))

typ, data = m.select("INBOX")
check(typ == "OK" and data[0] == b"1", "select %r" % (data,))

typ, data = m.fetch("1", "(RFC822)")
check(typ == "OK" and data[0][1] == MSG, "fetch body %r" % (data,))

typ, data = m.fetch("1", "(FLAGS)")
check(typ == "OK" and b"\\Seen" in data[0] and b"\\Flagged" in data[0], "flags after RFC822 fetch %r" % (data,))

typ, data = m.search(None, "SUBJECT", '"from python"')
check(typ == "OK" and data[0] == b"1", "search subject %r" % (data,))
typ, data = m.search(None, "UNSEEN")
check(typ == "OK" and data[0] == b"", "search unseen %r" % (data,))

typ, data = m.uid("SEARCH", None, "BODY", "snake")
check(typ == "OK" and data[0] == b"1", "uid search body %r" % (data,))

typ, data = m.store("1", "-FLAGS", r"(\Seen)")
check(typ == "OK" and b"\\Seen" not in data[0], "store %r" % (data,))

typ, data = m.uid("FETCH", "1", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
check(typ == "OK" and b"Subject: from python" in data[0][1], "uid fetch header %r" % (data,))

typ, data = m.list('""', "*")
check(typ == "OK" and any(b'"INBOX"' in line for line in data), "list %r" % (data,))

typ, data = m.status("INBOX", "(MESSAGES UNSEEN)")
check(typ == "OK" and b"MESSAGES 1" in data[0] and b"UNSEEN 1" in data[0], "status %r" % (data,))

m.close()
typ, _ = m.logout()
check(typ == "BYE", "logout")
print("ok")
