package imap

import "testing"

func TestBaseSubject(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		reply    bool
	}{
		{"Hello", "Hello", false},
		{"  Hello \t  world  ", "Hello world", false},
		{"Re: Hello", "Hello", true},
		{"RE:Hello", "Hello", true},
		{"re [2]: Hello", "Hello", true},
		{"Fwd: Re: FW: hello", "hello", true},
		{"Hello (fwd)", "Hello", true},
		{"Hello (FWD) (fwd)  ", "Hello", true},
		{"[list] Re: Hello", "Hello", true},
		{"[list] Hello", "Hello", false},
		{"[list] [other] Hello", "Hello", false},
		{"[only a blob]", "[only a blob]", false},
		{"[Fwd: Re: Hello]", "Hello", true},
		{"[fwd: [list] Hello (fwd)]", "Hello", true},
		{"Re: [list] Re: Hello (fwd)", "Hello", true},
		{"Rebuild the index", "Rebuild the index", false},
		{"Re: ", "", true},
		{"", "", false},
		{"[unterminated Hello", "[unterminated Hello", false},
		{"Grüße: Re: x", "Grüße: Re: x", false},
	} {
		got, reply := baseSubject(tc.in)
		if got != tc.want || reply != tc.reply {
			t.Errorf("baseSubject(%q) = %q, %v; want %q, %v", tc.in, got, reply, tc.want, tc.reply)
		}
	}
}

// FuzzBaseSubject checks that extraction terminates, is idempotent on
// non-reply results, and never grows the subject.
func FuzzBaseSubject(f *testing.F) {
	for _, s := range []string{"Re: [x] Fwd: y (fwd)", "[fwd: [fwd: a]]", "[[]]", "re re: :", "[a]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		base, _ := baseSubject(s)
		if len(base) > len(s) {
			t.Fatalf("baseSubject(%q) = %q grew", s, base)
		}
		if again, reply := baseSubject(base); again != base && !reply {
			t.Fatalf("baseSubject not stable: %q -> %q -> %q", s, base, again)
		}
	})
}

func TestFormatOrderedSet(t *testing.T) {
	for _, tc := range []struct {
		in   []uint32
		want string
	}{
		{nil, ""},
		{[]uint32{5}, "5"},
		{[]uint32{3, 4, 2, 1}, "3:4,2,1"},
		{[]uint32{1, 2, 3, 9, 8, 7}, "1:3,9,8,7"},
	} {
		if got := formatOrderedSet(tc.in); got != tc.want {
			t.Errorf("formatOrderedSet(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
