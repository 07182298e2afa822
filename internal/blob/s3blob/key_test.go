package s3blob

import (
	"path"
	"strings"
	"testing"
)

// FuzzValidKey: every key validKey accepts names exactly one object inside
// the store's keys/ prefix, however a server that stores objects as files
// resolves the name.
func FuzzValidKey(f *testing.F) {
	for _, k := range []string{"a", "q/123", "a/../b", "a//b", "./a", "..", "é", "a\\b", "\xff"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if validKey(key) != nil {
			return
		}
		full := "p/keys/" + key
		if path.Clean(full) != full || !strings.HasPrefix(path.Clean(full), "p/keys/") {
			t.Errorf("accepted key %q resolves to %q", key, path.Clean(full))
		}
		if strings.ContainsAny(key, "\\\x00\r\n") {
			t.Errorf("accepted key %q has a separator or control byte", key)
		}
	})
}
