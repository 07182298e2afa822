package mailstore

import (
	"errors"
	"strings"
	"testing"
)

func TestRenameTarget(t *testing.T) {
	for _, c := range []struct {
		src, newName, want string
		err                error
	}{
		{"a", "b", "b", nil},
		{"a", "inbox", "", ErrMailboxExists},
		{"a", "a", "", ErrMailboxExists},
		{"a", "a/b", "", ErrInvalidName},
		{"a", "ab", "ab", nil},
		{Inbox, "Old", "Old", nil},
		{Inbox, "inbox/Old", "INBOX/Old", nil}, // INBOX's messages move below it
		{"a", "", "", ErrInvalidName},
	} {
		got, err := RenameTarget(c.src, c.newName)
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("RenameTarget(%q, %q) = %q, %v; want %q, %v", c.src, c.newName, got, err, c.want, c.err)
		}
	}
}

func TestCreateName(t *testing.T) {
	norm, su, err := CreateName("inbox/Sent", `\sent`)
	if norm != "INBOX/Sent" || su != `\Sent` || err != nil {
		t.Errorf("CreateName = %q, %q, %v", norm, su, err)
	}
	if _, _, err := CreateName("a", `\Bogus`); err == nil {
		t.Error("CreateName accepted an unknown special use")
	}
	if _, _, err := CreateName(strings.Repeat("a/", MaxNameLevels)+"a", ""); !errors.Is(err, ErrLimit) {
		t.Errorf("CreateName of a too deep name: %v, want ErrLimit", err)
	}
}

func TestHeaderSection(t *testing.T) {
	for in, want := range map[string]string{
		"A: 1\r\n\r\nbody":         "A: 1\r\n\r\n",
		"A: 1\n\nbody\r\n\r\nmore": "A: 1\n\n",
		"A: 1\r\nB: 2":             "",
	} {
		if got := string(HeaderSection([]byte(in))); got != want {
			t.Errorf("HeaderSection(%q) = %q, want %q", in, got, want)
		}
	}
	if HeaderSection([]byte(strings.Repeat("x", MaxCachedHeader)+"\r\n\r\n")) != nil {
		t.Error("HeaderSection cached a header longer than MaxCachedHeader")
	}
}

func TestJoinSplitFlags(t *testing.T) {
	for _, flags := range [][]string{{}, {`\Seen`}, {`$Junk`, `\Deleted`, `\Seen`}} {
		got := SplitFlags(JoinFlags(flags))
		if strings.Join(got, ",") != strings.Join(flags, ",") || got == nil {
			t.Errorf("SplitFlags(JoinFlags(%q)) = %q", flags, got)
		}
	}
}
