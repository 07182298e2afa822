package mailstore

import "testing"

func TestNormalizeRights(t *testing.T) {
	for in, want := range map[string]string{"": "", "rl": "lr", "lrlr": "lr", "aeltxkpiwsr": "aeiklprstwx"} {
		if got, err := NormalizeRights(in); err != nil || got != want {
			t.Errorf("NormalizeRights(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"c", "d", "lr ", "L", "ä"} {
		if _, err := NormalizeRights(bad); err == nil {
			t.Errorf("NormalizeRights(%q) accepted", bad)
		}
	}
}
