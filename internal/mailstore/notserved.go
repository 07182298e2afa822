package mailstore

import "errors"

// ErrNotServed: this node no longer holds the lease on the store (it
// expired or another node took it over), so the store refused the write.
// It is not temporary for this node: the caller re-resolves which node
// serves the store instead of retrying here (issue #10, fencing).
var ErrNotServed = errors.New("this node does not serve the store: lease lost")
