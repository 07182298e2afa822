package mailstore

import (
	"slices"
	"testing"
)

func TestNormalizeFlags(t *testing.T) {
	got, err := NormalizeFlags([]string{`\seen`, "$Junk", `\Recent`, "$junk", `\FLAGGED`, `\Seen`})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"$Junk", `\Flagged`, `\Seen`}; !slices.Equal(got, want) {
		t.Errorf("NormalizeFlags = %q; want %q", got, want)
	}
	for _, bad := range []string{`\Unknown`, "a b", "a(b", `a"b`, "a]b", "", "ä"} {
		if _, err := NormalizeFlags([]string{bad}); err == nil {
			t.Errorf("NormalizeFlags(%q) accepted", bad)
		}
	}
}

func TestApplyFlags(t *testing.T) {
	cur := []string{"$Work", `\Seen`}
	cases := []struct {
		op      FlagOp
		change  []string
		want    []string
		changed bool
	}{
		{FlagsAdd, []string{`\Answered`}, []string{"$Work", `\Answered`, `\Seen`}, true},
		{FlagsAdd, []string{"$work"}, cur, false},
		{FlagsRemove, []string{"$WORK"}, []string{`\Seen`}, true},
		{FlagsRemove, []string{`\Draft`}, cur, false},
		{FlagsReplace, []string{}, []string{}, true},
		{FlagsReplace, cur, cur, false},
	}
	for _, c := range cases {
		got, changed := ApplyFlags(cur, c.op, c.change)
		if !slices.Equal(got, c.want) || changed != c.changed {
			t.Errorf("ApplyFlags(%q, %v, %q) = %q, %v; want %q, %v", cur, c.op, c.change, got, changed, c.want, c.changed)
		}
	}
}
