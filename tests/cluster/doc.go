// Package cluster proves Rookery's cluster mode with real processes: its
// tests start examples/cluster/start.sh (PostgreSQL, an S3 server, HAProxy
// and seven rookery nodes on 127.0.0.x) and drive it with real clients,
// killing, pausing and cutting off parts of it. The package has no code of
// its own; everything is in its _test.go files.
package cluster
