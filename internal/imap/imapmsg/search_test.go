package imapmsg

import (
	"reflect"
	"testing"
)

func TestHeaderValues(t *testing.T) {
	m := Parse([]byte(msgEncoded))
	if got, want := m.HeaderValues("subject"), []string{"été and café"}; !reflect.DeepEqual(got, want) {
		t.Errorf("HeaderValues(subject) = %q, want %q", got, want)
	}
	if got, want := m.HeaderValues("From"), []string{"Keld Jørn Simonsen <keld@dkuug.dk>"}; !reflect.DeepEqual(got, want) {
		t.Errorf("HeaderValues(From) = %q, want %q", got, want)
	}
	if got := m.HeaderValues("X-Missing"); got != nil {
		t.Errorf("HeaderValues(X-Missing) = %q, want nil", got)
	}
	m = Parse([]byte("Received: a\r\nreceived: b\r\n c\r\n\r\n"))
	if got, want := m.HeaderValues("RECEIVED"), []string{"a", "b c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("HeaderValues(RECEIVED) = %q, want %q", got, want)
	}
	// Unknown charsets and broken words never fail.
	m = Parse([]byte("Subject: =?x-unknown?q?abc?= =?utf-8?q?broken\r\n\r\n"))
	if got := m.HeaderValues("Subject"); len(got) != 1 || got[0] == "" {
		t.Errorf("HeaderValues(Subject) = %q", got)
	}
}

func TestHasHeader(t *testing.T) {
	m := Parse([]byte(msgEncoded))
	tests := []struct {
		name, substr string
		want         bool
	}{
		{"Subject", "CAFÉ", true},
		{"subject", "ÉTÉ AND", true},
		{"From", "jørn", true},
		{"From", "JØRN SIMONSEN", true},
		{"To", "andré pirard", true},
		{"To", "keld", false},
		{"Subject", "", true},
		{"Cc", "", false},
		{"Content-Transfer-Encoding", "BASE64", true},
	}
	for _, tt := range tests {
		if got := m.HasHeader(tt.name, tt.substr); got != tt.want {
			t.Errorf("HasHeader(%q, %q) = %v, want %v", tt.name, tt.substr, got, tt.want)
		}
	}
}

func TestBodyContains(t *testing.T) {
	tests := []struct {
		name, msg, substr string
		headers, want     bool
	}{
		{"plain", msgSimple, "MEET AT 3:30", false, true},
		{"not in body", msgSimple, "afternoon", false, false},
		{"text includes header", msgSimple, "afternoon", true, true},
		{"text field name", msgSimple, "message-id: <b27397", true, true},
		{"base64 utf-8", msgEncoded, "grüsse", false, false},
		{"base64 utf-8 fold", msgEncoded, "GRÜSSE", false, false},
		{"base64 utf-8 exact", msgEncoded, "grÜße aus köln", false, true},
		{"qp latin1", msgMixed, "café REPORT", false, true},
		{"base64 attachment skipped", msgMixed, "%PDF", false, false},
		{"html part", msgAlternative, "<p>see you", false, true},
		{"preamble skipped", msgAlternative, "multi-part message", false, false},
		{"embedded message header", msgNested, "carol@example.org", false, true},
		{"embedded message body", msgNested, "ORIGINAL TEXT", false, true},
		{"outer header not body", msgNested, "Fwd:", false, false},
		{"empty matches", "", "", false, true},
		{"windows-1252", "Content-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=93quoted=94 =80 5\r\n", "“QUOTED” € 5", false, true},
		{"soft breaks", "Content-Transfer-Encoding: quoted-printable\r\n\r\nlong=\r\nword =3D=XYz\r\n", "longword ==xyz", false, true},
		{"Kelvin sign folds", "\r\n\u212a\r\n", "k", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Parse([]byte(tt.msg)).BodyContains(tt.substr, tt.headers); got != tt.want {
				t.Errorf("BodyContains(%q, %v) = %v, want %v", tt.substr, tt.headers, got, tt.want)
			}
		})
	}
}
