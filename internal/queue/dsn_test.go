package queue

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// parsedDSN is a composed DSN taken apart with net/mail and mime/multipart.
type parsedDSN struct {
	header     mail.Header
	reportType string
	text       string
	perMessage textproto.MIMEHeader
	perRcpt    []textproto.MIMEHeader
	headers    string // the text/rfc822-headers part; "" if absent
}

func parseDSN(t *testing.T, raw []byte) parsedDSN {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not a message: %v\n%s", err, raw)
	}
	var p parsedDSN
	p.header = msg.Header
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/report" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	p.reportType = params["report-type"]
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for i := 0; ; i++ {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(part)
		switch ct := part.Header.Get("Content-Type"); {
		case i == 0 && strings.HasPrefix(ct, "text/plain"):
			p.text = string(body)
		case i == 1 && ct == "message/delivery-status":
			// RFC 3464 §2.1: groups of header-like fields, separated by blank lines.
			r := textproto.NewReader(bufio.NewReader(bytes.NewReader(body)))
			for {
				h, err := r.ReadMIMEHeader()
				if len(h) > 0 {
					if p.perMessage == nil {
						p.perMessage = h
					} else {
						p.perRcpt = append(p.perRcpt, h)
					}
				}
				if err != nil {
					break
				}
			}
		case i == 2 && ct == "text/rfc822-headers":
			p.headers = string(body)
		default:
			t.Fatalf("part %d: unexpected Content-Type %q", i, ct)
		}
	}
	return p
}

func TestComposeDSN(t *testing.T) {
	arrival := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	now := arrival.Add(5 * time.Hour)
	orig := &Message{ID: "q1", From: "sender@example.test", Received: arrival}
	headers := []byte("From: sender@example.test\r\nSubject: hello\r\nMessage-ID: <m1@example.test>\r\n")
	tests := []struct {
		name       string
		dsn        DSN
		wantRcpt   []map[string]string
		wantText   []string
		wantSubj   string
		wantHeader bool
	}{
		{
			name: "bounce of two recipients",
			dsn: DSN{Action: ActionFailed, Headers: headers, Recipients: []DSNRecipient{
				{Address: "a@remote.test", Orig: "alias@remote.test", Status: "5.1.1", Diagnostic: "550 5.1.1 <a@remote.test>: user unknown", LastAttempt: now},
				{Address: "b@local.test", Status: "5.0.0", Diagnostic: "mailbox no longer exists", LastAttempt: now},
			}},
			wantSubj: "Undelivered Mail Returned to Sender",
			wantRcpt: []map[string]string{
				{"Final-Recipient": "rfc822; a@remote.test", "Original-Recipient": "rfc822; alias@remote.test", "Action": "failed",
					"Status": "5.1.1", "Diagnostic-Code": "smtp; 550 5.1.1 <a@remote.test>: user unknown", "Last-Attempt-Date": now.Format(time.RFC1123Z)},
				{"Final-Recipient": "rfc822; b@local.test", "Original-Recipient": "", "Action": "failed", "Status": "5.0.0",
					"Diagnostic-Code": "X-Rookery; mailbox no longer exists"},
			},
			wantText:   []string{"could not\r\nbe delivered", "<a@remote.test>: 550 5.1.1 <a@remote.test>: user unknown", "<b@local.test>: mailbox no longer exists"},
			wantHeader: true,
		},
		{
			name: "delay warning, multi-line reply joined",
			dsn: DSN{Action: ActionDelayed, Headers: headers, RetryUntil: arrival.Add(120 * time.Hour), Recipients: []DSNRecipient{
				{Address: "c@remote.test", Orig: "c@remote.test", Status: "4.2.2", Diagnostic: "452-4.2.2 mailbox full\r\n452 4.2.2 try later", LastAttempt: now},
			}},
			wantSubj: "Delayed Mail (still being retried)",
			wantRcpt: []map[string]string{
				{"Action": "delayed", "Status": "4.2.2", "Diagnostic-Code": "smtp; 452-4.2.2 mailbox full 452 4.2.2 try later",
					"Will-Retry-Until": arrival.Add(120 * time.Hour).Format(time.RFC1123Z)},
			},
			wantText:   []string{"THIS IS A WARNING ONLY", "could not be delivered for 5h0m0s"},
			wantHeader: true,
		},
		{
			name:     "no headers part without headers",
			dsn:      DSN{Action: ActionFailed, Recipients: []DSNRecipient{{Address: "d@remote.test", Status: "4.4.7", Diagnostic: ""}}},
			wantSubj: "Undelivered Mail Returned to Sender",
			wantRcpt: []map[string]string{{"Status": "4.4.7", "Diagnostic-Code": "", "Last-Attempt-Date": ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.dsn
			d.Hostname, d.Original, d.Date = "mx.local.test", orig, now
			raw, err := d.Compose()
			if err != nil {
				t.Fatal(err)
			}
			p := parseDSN(t, raw)
			from, err := p.header.AddressList("From")
			if err != nil || len(from) != 1 || from[0].Address != "MAILER-DAEMON@mx.local.test" || from[0].Name != "Mail Delivery System" {
				t.Errorf("From = %v, %v", from, err)
			}
			if to := p.header.Get("To"); to != "<sender@example.test>" {
				t.Errorf("To = %q", to)
			}
			if got := p.header.Get("Subject"); got != tt.wantSubj {
				t.Errorf("Subject = %q", got)
			}
			if got := p.header.Get("Auto-Submitted"); got != "auto-replied" {
				t.Errorf("Auto-Submitted = %q", got)
			}
			if _, err := p.header.Date(); err != nil {
				t.Errorf("Date: %v", err)
			}
			if p.reportType != "delivery-status" {
				t.Errorf("report-type = %q", p.reportType)
			}
			if got := p.perMessage.Get("Reporting-MTA"); got != "dns; mx.local.test" {
				t.Errorf("Reporting-MTA = %q", got)
			}
			if got := p.perMessage.Get("Arrival-Date"); got != arrival.Format(time.RFC1123Z) {
				t.Errorf("Arrival-Date = %q", got)
			}
			if len(p.perRcpt) != len(tt.wantRcpt) {
				t.Fatalf("%d recipient groups, want %d", len(p.perRcpt), len(tt.wantRcpt))
			}
			for i, want := range tt.wantRcpt {
				for k, v := range want {
					if got := p.perRcpt[i].Get(k); got != v {
						t.Errorf("recipient %d: %s = %q, want %q", i, k, got, v)
					}
				}
			}
			for _, s := range tt.wantText {
				if !strings.Contains(p.text, s) {
					t.Errorf("text part lacks %q:\n%s", s, p.text)
				}
			}
			if tt.wantHeader != (p.headers != "") || tt.wantHeader && !strings.Contains(p.headers, "Subject: hello\r\n") {
				t.Errorf("headers part = %q", p.headers)
			}
		})
	}
}

func TestStatusCode(t *testing.T) {
	for _, tt := range []struct{ reply, def, want string }{
		{"550 5.1.1 user unknown", "5.0.0", "5.1.1"},
		{"5.7.1 relay denied", "5.0.0", "5.7.1"},
		{"550 user unknown", "5.0.0", "5.0.0"},
		{"451 4.3.0 try again", "5.0.0", "5.0.0"}, // a transient code cannot explain a failure
		{"451 4.3.0 try again", "4.0.0", "4.3.0"},
		{"mailstore down", "4.0.0", "4.0.0"},
		{"", "5.0.0", "5.0.0"},
	} {
		if got := StatusCode(tt.reply, tt.def); got != tt.want {
			t.Errorf("StatusCode(%q, %q) = %q, want %q", tt.reply, tt.def, got, tt.want)
		}
	}
}

func TestHeaderSection(t *testing.T) {
	for in, want := range map[string]string{
		"A: 1\r\nB: 2\r\n\r\nbody": "A: 1\r\nB: 2\r\n",
		"A: 1\n\nbody":             "A: 1\n",
		"A: 1\r\n":                 "A: 1\r\n",
	} {
		if got := string(HeaderSection([]byte(in))); got != want {
			t.Errorf("HeaderSection(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPolicyBackoff(t *testing.T) {
	var p Policy // zero: defaults
	want := []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute, 40 * time.Minute, time.Hour, time.Hour}
	for n, w := range want {
		if got := p.Backoff(n); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, w)
		}
	}
}

func TestSplitRemote(t *testing.T) {
	for _, tc := range []struct{ in, host, reply string }{
		{"mx.b.test[127.0.0.3]: 550 5.1.1 No such user", "mx.b.test", "550 5.1.1 No such user"},
		{"451 4.4.1 connection refused", "", "451 4.4.1 connection refused"},
		{"5.1.1 mailbox no longer exists", "", "5.1.1 mailbox no longer exists"},
	} {
		host, reply := SplitRemote(tc.in)
		if host != tc.host || reply != tc.reply {
			t.Errorf("SplitRemote(%q) = %q, %q", tc.in, host, reply)
		}
	}
}
