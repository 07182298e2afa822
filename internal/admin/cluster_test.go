package admin

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/cluster"
	"github.com/rookery-mail/rookery/internal/queue"
	"github.com/rookery-mail/rookery/internal/queue/sqlitequeue"
)

// TestClusterStatus: the formatting of `cluster status` over a registry
// snapshot (the registry itself is tested against PostgreSQL in package
// cluster and, end to end, in tests/cluster).
func TestClusterStatus(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	st := cluster.Status{
		Nodes: []cluster.NodeStatus{
			{Name: "fe1", Roles: []string{"imap", "pop3"}, Endpoints: map[string]string{"pop3": "10.0.0.21:110", "imap": "10.0.0.21:143"}, Heartbeat: 1200 * time.Millisecond, Alive: true},
			{Name: "ms1", Roles: []string{"mailstore"}, Endpoints: map[string]string{"lmtp": "10.0.0.31:24"}, Heartbeat: 40 * time.Second},
		},
		Leases: []cluster.LeaseStatus{
			{Store: "s1", Holder: "ms2", Epoch: 3, Valid: true, Expires: 9800 * time.Millisecond},
			{Store: "s2", Holder: "ms1", Epoch: 2, Expires: -25 * time.Second},
			{Store: "s3"},
		},
	}
	env := Env{
		Queue:   func(ctx context.Context) (queue.Store, error) { return sqlitequeue.Open(ctx, path) },
		Cluster: func(context.Context) (cluster.Status, error) { return st, nil },
	}
	transcriptEnv(t, env, `
$ cluster status
node fe1 roles=imap,pop3 up heartbeat=1.2s-ago imap=10.0.0.21:143 pop3=10.0.0.21:110
node ms1 roles=mailstore down heartbeat=40s-ago lmtp=10.0.0.31:24
store s1 served-by=ms2 epoch=3 expires-in=9.8s
store s2 unserved epoch=2 last-holder=ms1 expired=25s-ago
store s3 unserved epoch=0 never-held
queue messages=0 recipients=0 held=0 failed=0 oldest=-
`)
	transcriptEnv(t, Env{}, `
$ cluster status
! not a cluster
`)
}
