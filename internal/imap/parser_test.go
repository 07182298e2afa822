package imap

import (
	"bufio"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestSeqSet(t *testing.T) {
	tests := []struct {
		in   string
		n    uint32
		want []uint32
		ok   bool
	}{
		{"1", 3, []uint32{1}, true},
		{"1:*", 3, []uint32{1, 2, 3}, true},
		{"*:2", 3, []uint32{2, 3}, true},
		{"3:1", 3, []uint32{1, 2, 3}, true},
		{"2,1,2:3", 3, []uint32{1, 2, 3}, true},
		{"*", 3, []uint32{3}, true},
		{"4", 3, nil, false},
		{"1:*", 0, nil, false},
	}
	for _, tc := range tests {
		set, err := parseSeqSet(tc.in)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		got, ok := set.seqNums(tc.n)
		if ok != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("%q over %d = %v %v, want %v %v", tc.in, tc.n, got, ok, tc.want, tc.ok)
		}
	}
	for _, bad := range []string{"", "0", "1:", ":1", "1,,2", "a", "01", "4294967296", "1:0"} {
		if _, err := parseSeqSet(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	set, _ := parseSeqSet("5:*")
	if !set.containsUID(9, 9) || !set.containsUID(5, 3) || set.containsUID(4, 9) {
		t.Error("UID set 5:* wrong")
	}
	if got := formatUIDSet([]uint32{1, 2, 3, 5, 7, 8}); got != "1:3,5,7:8" {
		t.Errorf("formatUIDSet = %q", got)
	}
}

func TestMUTF7(t *testing.T) {
	pairs := [][2]string{
		{"INBOX", "INBOX"},
		{"Entwürfe", "Entw&APw-rfe"},
		{"A&B", "A&-B"},
		{"日本語", "&ZeVnLIqe-"},
		{"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
		{"😀", "&2D3eAA-"},
	}
	for _, p := range pairs {
		if got := encodeMUTF7(p[0]); got != p[1] {
			t.Errorf("encode %q = %q, want %q", p[0], got, p[1])
		}
		if got, err := decodeMUTF7(p[1]); err != nil || got != p[0] {
			t.Errorf("decode %q = %q, %v", p[1], got, err)
		}
	}
	for _, bad := range []string{"&", "&Jjo", "&AGE-", "&2D0-", "a\x01"} {
		if _, err := decodeMUTF7(bad); err == nil {
			t.Errorf("decoded invalid %q", bad)
		}
	}
}

func TestMatchPattern(t *testing.T) {
	tests := []struct {
		pat, name string
		want      bool
	}{
		{"*", "a/b/c", true},
		{"%", "a/b", false},
		{"%", "a", true},
		{"a/%", "a/b", true},
		{"a/%", "a/b/c", false},
		{"a/*", "a/b/c", true},
		{"inbox", "INBOX", true},
		{"Inbox/%", "INBOX/x", true},
		{"S%t", "Sent", true},
		{"S%t", "S/t", false},
		{"*t", "Sent", true},
		{"", "", true},
		{"x", "", false},
	}
	for _, tc := range tests {
		if got := matchPattern(tc.pat, tc.name); got != tc.want {
			t.Errorf("match(%q, %q) = %v", tc.pat, tc.name, got)
		}
	}
}

func TestReadCommand(t *testing.T) {
	lim := commandLimits{maxLine: 100, maxLiteral: 1000}
	tests := []struct {
		in, want string
		conts    int
		errKind  string
	}{
		{"a NOOP\r\n", "a NOOP", 0, ""},
		{"a NOOP\n", "a NOOP", 0, ""},
		{"a LOGIN {1}\r\nx {2+}\r\nyz\r\n", "a LOGIN {1}\r\nx {2+}\r\nyz", 1, ""},
		{"a APPEND x {500}\r\n" + strings.Repeat("m", 500) + "\r\n", "a APPEND x {500}\r\n" + strings.Repeat("m", 500), 1, ""},
		{"a LOGIN {500}\r\n", "", 0, "BAD"},
		{"a APPEND x {5000}\r\n", "", 0, "NO"},
		{"a " + strings.Repeat("x", 200) + "\r\n", "", 0, "BAD"},
		{"a \xff\r\n", "", 0, "BAD"},
	}
	for _, tc := range tests {
		conts := 0
		got, err := readCommand(bufio.NewReaderSize(strings.NewReader(tc.in), 16), lim, func() error { conts++; return nil })
		var ce *commandError
		switch {
		case tc.errKind != "":
			if !errors.As(err, &ce) || ce.kind != tc.errKind || ce.tag != "a" {
				t.Errorf("%q: err = %v, want %s", tc.in, err, tc.errKind)
			}
		case err != nil || string(got) != tc.want || conts != tc.conts:
			t.Errorf("%q: got %q, %d continuations, %v", tc.in, got, conts, err)
		}
	}
}

func TestParseFetchItems(t *testing.T) {
	p := &parser{b: []byte(`(UID BODY.PEEK[1.2.HEADER.FIELDS.NOT (X-A "x-b")]<10.20> RFC822.TEXT BODY[]`)}
	p.b = append(p.b, ')')
	items, err := parseFetchItems(p)
	if err != nil || !p.atEnd() {
		t.Fatal(err)
	}
	if len(items) != 4 || items[1].respName != `BODY[1.2.HEADER.FIELDS.NOT ("X-A" "X-B")]` || !items[1].peek ||
		!items[1].hasPartial || items[1].offset != 10 || items[1].length != 20 ||
		!slices.Equal(items[1].section.Part, []int{1, 2}) || items[2].peek || items[3].respName != "BODY[]" {
		t.Fatalf("items = %+v", items)
	}
}
