package blob

import (
	"io"
	"strings"
	"testing"
)

func TestID(t *testing.T) {
	// sha256("abc"), FIPS 180-2 appendix B.1.
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := ID([]byte("abc")); got != abc {
		t.Errorf("ID(abc) = %s", got)
	}
	h := NewHasher()
	io.Copy(h, strings.NewReader("a"))
	io.Copy(h, strings.NewReader("bc"))
	if got := h.ID(); got != abc {
		t.Errorf("Hasher ID = %s", got)
	}
	if !ValidID(abc) {
		t.Error("ValidID rejects an ID")
	}
	for _, bad := range []string{"", strings.ToUpper(abc), abc[:63], abc + "0", "../" + abc[3:], strings.Repeat("g", 64)} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}
