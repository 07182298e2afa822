"""NOTIFY (RFC 5465) with Python's imaplib: events from another session
arrive on a connection that sends no command. Prints "ok"."""
import imaplib
import sys

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
imaplib.Commands["NOTIFY"] = ("AUTH", "SELECTED")

a = imaplib.IMAP4(host, port)
a.login(user, password)
assert "NOTIFY" in a.capabilities, a.capabilities
typ, _ = a._simple_command("NOTIFY", "SET", "(personal (MessageNew MessageExpunge MailboxName))")
assert typ == "OK", typ

b = imaplib.IMAP4(host, port)
b.login(user, password)
typ, _ = b.append("Sent", None, None, b"Subject: hi\r\n\r\nhello\r\n")
assert typ == "OK", typ
typ, _ = b.create("Projects")
assert typ == "OK", typ

a.sock.settimeout(10)
want = {'* STATUS "Sent" (MESSAGES 1 UIDNEXT 2', '* LIST () "/" "Projects"'}
while want:
    line = a.readline().decode().rstrip("\r\n")
    want = {w for w in want if not line.startswith(w)}

typ, _ = a._simple_command("NOTIFY", "NONE")
assert typ == "OK", typ
a.logout()
b.logout()
print("ok")
