package mailstore

import "bytes"

// MaxCachedHeader bounds a cached header section; a message whose header
// is longer (or has no end) is not cached and is read from its blob.
const MaxCachedHeader = 64 << 10

// HeaderSection returns raw's header section including the blank line that
// ends it, or nil when there is none within MaxCachedHeader. Engines cache
// what it returns for Headers, so every engine caches the same bytes.
func HeaderSection(raw []byte) []byte {
	head := raw[:min(len(raw), MaxCachedHeader)]
	end := -1
	if i := bytes.Index(head, []byte("\r\n\r\n")); i >= 0 {
		end = i + 4
	}
	if i := bytes.Index(head, []byte("\n\n")); i >= 0 && (end < 0 || i+2 < end) {
		end = i + 2
	}
	if end < 0 {
		return nil
	}
	return bytes.Clone(raw[:end])
}
