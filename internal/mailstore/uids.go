package mailstore

import "slices"

// SortedUIDs returns uids sorted ascending without repeats, leaving uids
// as it was: engines walk a request's UIDs in this order so that two
// requests touching the same messages lock them in the same order.
func SortedUIDs(uids []uint32) []uint32 {
	u := slices.Clone(uids)
	slices.Sort(u)
	return slices.Compact(u)
}
