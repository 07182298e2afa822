package sqlitestore

import (
	"slices"
	"strings"
)

// Flags are stored as one space-separated column; mailstore.NormalizeFlags
// guarantees no flag contains a space.

func joinFlags(flags []string) string { return strings.Join(flags, " ") }

func splitFlags(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, " ")
}

func hasFlag(flags []string, f string) bool { return slices.Contains(flags, f) }
