package mailstore

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestNormalizeName(t *testing.T) {
	ok := map[string]string{
		"INBOX":        "INBOX",
		"inbox":        "INBOX",
		"iNbOx/Sub":    "INBOX/Sub",
		"Inboxes":      "Inboxes",
		"a/inbox":      "a/inbox",
		"Entwürfe":     "Entwürfe",
		"Archive/2024": "Archive/2024",
	}
	for in, want := range ok {
		got, err := NormalizeName(in)
		if err != nil || got != want {
			t.Errorf("NormalizeName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "a*b", "a%", "a\x00b", "a\x7f", "/a", "a/", "a//b", "\xff"} {
		if _, err := NormalizeName(bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("NormalizeName(%q) err = %v; want ErrInvalidName", bad, err)
		}
	}
}

func TestParents(t *testing.T) {
	if got := Parents("a/b/c"); !slices.Equal(got, []string{"a", "a/b"}) {
		t.Errorf("Parents(a/b/c) = %q", got)
	}
	if got := Parents("a"); len(got) != 0 {
		t.Errorf("Parents(a) = %q", got)
	}
}

func TestNormalizeSpecialUse(t *testing.T) {
	for in, want := range map[string]string{"": "", `\sent`: `\Sent`, `\JUNK`: `\Junk`, `\All`: `\All`} {
		if got, err := NormalizeSpecialUse(in); err != nil || got != want {
			t.Errorf("NormalizeSpecialUse(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`\Important`, "Sent", `\`} {
		if _, err := NormalizeSpecialUse(bad); err == nil {
			t.Errorf("NormalizeSpecialUse(%q) accepted", bad)
		}
	}
}

func TestCheckNameBounds(t *testing.T) {
	for _, ok := range []string{"a", strings.Repeat("x", MaxLevelBytes), strings.Repeat("a/", MaxNameLevels-1) + "a"} {
		if err := CheckNameBounds(ok); err != nil {
			t.Errorf("CheckNameBounds(%.20q…) = %v", ok, err)
		}
	}
	for _, bad := range []string{
		strings.Repeat("x", MaxLevelBytes+1),
		strings.Repeat("a/", MaxNameLevels) + "a",
		strings.Repeat(strings.Repeat("x", 200)+"/", 6),
	} {
		if err := CheckNameBounds(bad); !errors.Is(err, ErrLimit) {
			t.Errorf("CheckNameBounds(%.20q…) = %v; want ErrLimit", bad, err)
		}
	}
}
