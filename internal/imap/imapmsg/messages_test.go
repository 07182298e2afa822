package imapmsg

// Test messages, written with LF and converted to CRLF by crlf.
var (
	msgSimple = crlf(`Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)
From: Fred Foobar <foobar@Blurdybloop.example>
Subject: afternoon meeting
To: mooch@owatagu.siam.edu.example
Message-Id: <B27397-0100000@Blurdybloop.example>
MIME-Version: 1.0
Content-Type: TEXT/PLAIN; CHARSET=US-ASCII

Hello Joe, do you think we can meet at 3:30 tomorrow?
`)

	msgAlternative = crlf(`From: Alice <alice@example.org>
To: Bob <bob@example.net>
Subject: Lunch
Date: Tue, 2 Jan 2024 10:00:00 +0100
Message-ID: <lunch@example.org>
MIME-Version: 1.0
Content-Type: multipart/alternative;
	boundary="b1_alt"

This is a multi-part message in MIME format.
--b1_alt
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 7bit

Hi Bob,

See you at noon.
-- 
Alice
--b1_alt
Content-Type: text/html; charset=utf-8

<p>Hi Bob,</p>
<p>See you at noon.</p>
--b1_alt--
`)

	msgMixed = crlf(`From: "Reports, Daily" <reports@example.com>
To: ops@example.com
Cc: 
Subject: Report
Content-Type: multipart/mixed; boundary=MIX

--MIX
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

Caf=E9 report attached.
--MIX
Content-Type: application/pdf; name="report.pdf"
Content-Transfer-Encoding: base64
Content-ID: <part2@example.com>
Content-Description: Daily report
Content-Disposition: attachment; filename="report.pdf"; size=48
Content-Language: en, de
Content-Location: http://example.com/report.pdf
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==

JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K
--MIX--
`)

	msgNested = crlf(`From: Dave <dave@example.org>
To: eve@example.org
Subject: Fwd: Original
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: text/plain

see below
--outer
Content-Type: message/rfc822
Content-Disposition: inline

From: Carol <carol@example.org>
Subject: Original
Date: Wed, 3 Jan 2024 09:00:00 +0000
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain

original text
--inner
Content-Type: text/html

<p>original text</p>
--inner--

--outer--
`)

	msgGroups = crlf(`From: "Joe Q. Public" <john.q.public@example.com>
Sender: <@route1.test,@route2.test:agent@relay.test>
Reply-To: jdoe@example.org (John Doe)
To: Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>
Cc: <boss@nil.test>, "Giant; \"Big\" Box" <sysservices@example.net>
Bcc: A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;, Undisclosed recipients:;
In-Reply-To: <1234@local.machine.example>
Subject: Re: Saying Hello

Hi.
`)

	msgEncoded = crlf(`From: =?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>
To: =?utf-8?q?Andr=C3=A9?= Pirard <PIRARD@vm1.ulg.ac.be>
Subject: =?utf-8?B?w6l0w6k=?= and
 =?iso-8859-1?q?caf=E9?=
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

R3LDvMOfZSBhdXMgS8O2bG4K
`)

	msgDigest = crlf(`Content-Type: multipart/digest; boundary=D

--D

From: x@example.com
Subject: one

first digest entry
--D--
`)
)
