"""SORT, THREAD (RFC 5256) and COMPRESS=DEFLATE (RFC 4978) from Python.

imaplib parses SORT and THREAD responses; COMPRESS is driven over a raw
socket with zlib's raw deflate (wbits=-15), an implementation independent
of Go's compress/flate. Prints "ok" on success.
"""
import imaplib
import socket
import sys
import zlib

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

msgs = [
    b"Message-ID: <p@x>\r\nSubject: Plans\r\nDate: Sun, 01 Jan 2023 10:00:00 +0000\r\n\r\nx\r\n",
    b"Message-ID: <q@x>\r\nIn-Reply-To: <p@x>\r\nSubject: Re: Plans\r\nDate: Sun, 01 Jan 2023 11:00:00 +0000\r\n\r\nx\r\n",
    b"Message-ID: <r@x>\r\nSubject: Apples\r\nDate: Sun, 01 Jan 2023 09:00:00 +0000\r\n\r\nx\r\n",
]

m = imaplib.IMAP4(host, port)
m.login(user, password)
for body in msgs:
    typ, _ = m.append("INBOX", None, None, body)
    assert typ == "OK", typ
m.select("INBOX")
typ, data = m.sort("(SUBJECT)", "UTF-8", "ALL")
assert typ == "OK" and data == [b"3 1 2"], (typ, data)
typ, data = m.sort("(REVERSE DATE)", "UTF-8", "ALL")
assert typ == "OK" and data == [b"2 1 3"], (typ, data)
typ, data = m.thread("REFERENCES", "UTF-8", "ALL")
assert typ == "OK" and data == [b"(3)(1 2)"], (typ, data)
m.logout()

s = socket.create_connection((host, port), timeout=10)
raw = b""


def line():
    """Reads one uncompressed line; what follows stays in raw."""
    global raw
    while b"\r\n" not in raw:
        chunk = s.recv(4096)
        assert chunk, "connection closed"
        raw += chunk
    l, raw = raw.split(b"\r\n", 1)
    return l


assert line().startswith(b"* OK")
s.sendall(b"a LOGIN %s %s\r\n" % (user.encode(), password.encode()))
assert line().startswith(b"a OK"), "login"
s.sendall(b"b COMPRESS DEFLATE\r\n")
assert line() == b"b OK DEFLATE active"
comp = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
decomp = zlib.decompressobj(-15)
pending = decomp.decompress(raw)


def send(cmd, mode=zlib.Z_SYNC_FLUSH):
    s.sendall(comp.compress(cmd) + comp.flush(mode))


def read_until(tag):
    global pending
    lines = []
    while True:
        while b"\r\n" not in pending:
            chunk = s.recv(65536)
            assert chunk, "connection closed"
            pending += decomp.decompress(chunk)
        l, pending = pending.split(b"\r\n", 1)
        lines.append(l)
        if l.startswith(tag + b" "):
            return lines


send(b"c SELECT INBOX\r\n")
assert read_until(b"c")[-1].startswith(b"c OK")
send(b"d UID SORT (SUBJECT) UTF-8 ALL\r\n")
assert read_until(b"d") == [b"* SORT 3 1 2", b"d OK UID SORT completed"]
# Z_PARTIAL_FLUSH, as isync/mbsync flushes: the block end is not byte
# aligned, and the server must still act on the command at once.
send(b"p1 NOOP\r\n", zlib.Z_PARTIAL_FLUSH)
assert read_until(b"p1")[-1].startswith(b"p1 OK")
send(b"p2 UID SORT (SUBJECT) UTF-8 ALL\r\n", zlib.Z_PARTIAL_FLUSH)
assert read_until(b"p2") == [b"* SORT 3 1 2", b"p2 OK UID SORT completed"]
send(b"e LOGOUT\r\n")
assert read_until(b"e")[-1].startswith(b"e OK")
print("ok")
