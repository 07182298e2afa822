"""Independent clients: send with smtplib, read back with imaplib.

usage: clients.py MX_ADDR IMAP_ADDR USER PASSWORD
"""
import imaplib
import smtplib
import sys
import time

mx, imap_addr, user, password = sys.argv[1:5]
mh, mp = mx.rsplit(":", 1)
ih, ip = imap_addr.rsplit(":", 1)

body = (
    "From: py@remote.test\r\nTo: %s\r\nSubject: from python\r\n\r\n"
    "line one\r\n.leading dot line\r\nline three\r\n" % user
)
with smtplib.SMTP(mh, int(mp)) as s:
    s.ehlo("python.test")
    assert s.has_extn("pipelining") and s.has_extn("8bitmime"), s.esmtp_features
    refused = s.sendmail("py@remote.test", [user], body)
    assert not refused, refused
    try:
        s.sendmail("py@remote.test", ["nobody@example.test"], body)
        raise AssertionError("unknown recipient accepted")
    except smtplib.SMTPRecipientsRefused as e:
        code = e.recipients["nobody@example.test"][0]
        assert code == 550, e.recipients

m = imaplib.IMAP4(ih, int(ip))
m.login(user, password)
deadline = time.time() + 10
while True:
    typ, data = m.select("INBOX")
    assert typ == "OK", data
    if int(data[0]) >= 1 or time.time() > deadline:
        break
    time.sleep(0.05)
assert int(data[0]) == 1, data
typ, data = m.fetch("1", "(BODY.PEEK[] FLAGS)")
assert typ == "OK", data
raw = data[0][1].decode()
assert raw.endswith(body), repr(raw)
typ, data = m.search(None, "SUBJECT", '"from python"')
assert data[0].split() == [b"1"], data
typ, data = m.store("1", "+FLAGS", "(\\Flagged)")
assert typ == "OK" and b"\\Flagged" in data[0], data
typ, data = m.search(None, "FLAGGED")
assert data[0].split() == [b"1"], data
typ, data = m.list()
names = b" ".join(data)
for want in (b"INBOX", b"Sent", b"Drafts", b"Trash", b"Junk", b"Archive"):
    assert want in names, data
m.logout()
print("PASS")
