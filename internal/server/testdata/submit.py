"""Submit over 587 with STARTTLS and AUTH using Python's smtplib.

usage: submit.py ADDR USER PASSWORD RCPT
"""
import smtplib
import ssl
import sys

addr, user, password, rcpt = sys.argv[1:5]
host, port = addr.rsplit(":", 1)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # the test certificate is self-signed

with smtplib.SMTP(host, int(port)) as s:
    s.ehlo("python.test")
    assert not s.has_extn("auth"), "AUTH offered before STARTTLS"
    s.starttls(context=ctx)
    s.ehlo("python.test")
    assert "PLAIN" in s.esmtp_features.get("auth", ""), s.esmtp_features
    try:
        s.login(user, "wrong password")
        raise AssertionError("wrong password accepted")
    except smtplib.SMTPAuthenticationError as e:
        assert e.smtp_code == 535, e
    s.login(user, password)
    msg = "From: %s\r\nTo: %s\r\nSubject: submitted by python\r\n\r\nhello\r\n" % (user, rcpt)
    assert not s.sendmail(user, [rcpt], msg)
    try:
        s.sendmail("someone@elsewhere.test", [rcpt], msg)
        raise AssertionError("foreign sender accepted")
    except smtplib.SMTPSenderRefused as e:
        assert e.smtp_code == 550, e
print("PASS")
