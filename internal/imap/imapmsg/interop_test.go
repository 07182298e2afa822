package imapmsg_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/rookery-mail/rookery/internal/imap/imapmsg"
)

// TestGoIMAPClientParses feeds ENVELOPE and BODYSTRUCTURE to the go-imap
// v2 client through a scripted server, to check that an independent
// parser reads our wire forms and sees the structure we meant.
func TestGoIMAPClientParses(t *testing.T) {
	raw := strings.ReplaceAll(`From: "Doe, Jane" <jane@example.org>
To: Group: a@b.example, c@d.example;
Subject: Grüße "quoted"
Content-Type: multipart/mixed; boundary=XX

--XX
Content-Type: text/plain; charset=utf-8

hello
--XX
Content-Type: message/rfc822
Content-Disposition: attachment; filename="fwd.eml"

From: inner@example.org
Subject: inner

inner body
--XX--
`, "\n", "\r\n")
	m := imapmsg.Parse([]byte(raw))
	resp := fmt.Sprintf("* 1 FETCH (ENVELOPE %s BODYSTRUCTURE %s)\r\n", m.Envelope(), m.BodyStructure(true))

	clientConn, serverConn := net.Pipe()
	defer clientConn.Close()
	go func() {
		defer serverConn.Close()
		fmt.Fprint(serverConn, "* OK [CAPABILITY IMAP4rev1] ready\r\n")
		r := bufio.NewReader(serverConn)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, _, _ := strings.Cut(line, " ")
			if strings.Contains(line, "FETCH") {
				fmt.Fprint(serverConn, resp)
			}
			fmt.Fprintf(serverConn, "%s OK done\r\n", tag)
		}
	}()

	c := imapclient.New(clientConn, nil)
	defer c.Close()
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Envelope: true, BodyStructure: &imap.FetchItemBodyStructure{Extended: true}}).Collect()
	if err != nil {
		t.Fatalf("fetch: %v\nresponse: %q", err, resp)
	}
	if len(msgs) != 1 {
		t.Fatalf("got %d messages", len(msgs))
	}
	env := msgs[0].Envelope
	if env == nil || env.Subject != `Grüße "quoted"` {
		t.Fatalf("envelope = %+v", env)
	}
	if len(env.From) != 1 || env.From[0].Name != "Doe, Jane" || env.From[0].Addr() != "jane@example.org" {
		t.Errorf("From = %+v", env.From)
	}
	if len(env.To) != 4 || !env.To[0].IsGroupStart() || env.To[1].Addr() != "a@b.example" || !env.To[3].IsGroupEnd() {
		t.Errorf("To = %+v", env.To)
	}
	mp, ok := msgs[0].BodyStructure.(*imap.BodyStructureMultiPart)
	if !ok || mp.Subtype != "mixed" || len(mp.Children) != 2 {
		t.Fatalf("BodyStructure = %#v", msgs[0].BodyStructure)
	}
	text, ok := mp.Children[0].(*imap.BodyStructureSinglePart)
	if !ok || text.Size != 5 || text.Text == nil || text.Text.NumLines != 1 || text.Params["charset"] != "utf-8" {
		t.Errorf("part 1 = %#v", mp.Children[0])
	}
	msg, ok := mp.Children[1].(*imap.BodyStructureSinglePart)
	if !ok || msg.MessageRFC822 == nil || msg.MessageRFC822.Envelope.Subject != "inner" {
		t.Fatalf("part 2 = %#v", mp.Children[1])
	}
	if d := msg.Disposition(); d == nil || d.Value != "attachment" || d.Params["filename"] != "fwd.eml" {
		t.Errorf("part 2 disposition = %+v", d)
	}
}
