package accept

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "",
		"a\r\nb\r\n":           "a\r\nb\r\n",
		"a\nb\n":               "a\r\nb\r\n",
		"\n.\n":                "\r\n.\r\n",
		"a\r\r\nb":             "a\r\n\r\nb",
		"mixed\r\nbare\n":      "mixed\r\nbare\r\n",
		"x\r\n\r.\r\nMAIL":     "x\r\n\r\n.\r\nMAIL",
		"cr\r.\rlf\n.\n":       "cr\r\n.\r\nlf\r\n.\r\n",
		"ends in cr\r":         "ends in cr\r\n",
		"\r\r\r":               "\r\n\r\n\r\n",
		"\n\r":                 "\r\n\r\n",
		"8bit caf\xc3\xa9\r\n": "8bit caf\xc3\xa9\r\n",
	} {
		got, err := io.ReadAll(Canonical(iotest.OneByteReader(bytes.NewReader([]byte(in)))))
		if err != nil || string(got) != want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"\x00", "a\r\n\x00\r\n", "a\r\x00", "long" + string(make([]byte, 10000))} {
		if _, err := io.ReadAll(Canonical(bytes.NewReader([]byte(in)))); !errors.Is(err, ErrNUL) {
			t.Errorf("Canonical(%q): %v, want ErrNUL", in, err)
		}
	}
	if _, err := io.ReadAll(Canonical(iotest.TimeoutReader(bytes.NewReader([]byte("a\r"))))); !errors.Is(err, iotest.ErrTimeout) {
		t.Errorf("a read error: %v, want it passed on", err)
	}
}

// canonicalRef is the obvious, whole-message definition of Canonical.
func canonicalRef(in []byte) ([]byte, error) {
	if bytes.IndexByte(in, 0) >= 0 {
		return nil, ErrNUL
	}
	s := bytes.ReplaceAll(in, []byte("\r\n"), []byte("\n"))
	s = bytes.ReplaceAll(s, []byte("\r"), []byte("\n"))
	return bytes.ReplaceAll(s, []byte("\n"), []byte("\r\n")), nil
}

// FuzzCanonical checks the streaming reader against canonicalRef, with
// reads of one byte, half the asked size and whole chunks, so that a CR at
// a chunk's end is exercised.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{"", "a\nb", "a\r\nb", "\n\n\r\n\r", "x\r", "\r\n\r.\r\nDATA", "a\x00b"} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, in []byte, mode uint8) {
		var r io.Reader = bytes.NewReader(in)
		switch mode % 4 {
		case 1:
			r = iotest.OneByteReader(r)
		case 2:
			r = iotest.HalfReader(r)
		case 3:
			r = iotest.DataErrReader(r)
		}
		got, err := io.ReadAll(Canonical(r))
		want, wantErr := canonicalRef(in)
		if wantErr != nil {
			if !errors.Is(err, ErrNUL) {
				t.Fatalf("%q: err %v, want ErrNUL", in, err)
			}
			before, _ := canonicalRef(in[:bytes.IndexByte(in, 0)])
			if !bytes.HasPrefix(before, got) {
				t.Fatalf("%q: got %q before ErrNUL, want a prefix of %q", in, got, before)
			}
			return
		}
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%q: got %q, %v; want %q", in, got, err, want)
		}
	})
}
