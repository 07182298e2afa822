package server

import (
	"testing"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/testsvc"
)

// engineSet is one choice of storage engines for a benchmark node.
type engineSet struct {
	name string
	// edit returns startEnv's edit for this set, starting what it needs
	// for t (nil: the embedded defaults).
	edit func(t testing.TB) func(*config.Config)
}

// engineSets are the two deployments issue #9 compares: everything
// embedded (SQLite, blobs on disk) and everything scaled out (PostgreSQL
// directory, queue and mailstore; queue bodies and blobs in S3).
var engineSets = []engineSet{
	{"embedded", func(testing.TB) func(*config.Config) { return nil }},
	{"scaled", scaledEngines},
}

// scaledEngines puts every engine on one fresh PostgreSQL database and one
// fresh S3 bucket. startEnv's edit runs after config defaults were
// applied, so every field is set here.
func scaledEngines(t testing.TB) func(*config.Config) {
	dsn := testsvc.Postgres(t)
	endpoint, bucket, ak, sk := testsvc.S3(t)
	return func(c *config.Config) {
		c.S3 = config.S3{Endpoint: endpoint, AccessKey: ak, SecretKey: sk, Insecure: true}
		c.Directory = config.Directory{Engine: config.EnginePostgres, DSN: dsn, Schema: "directory"}
		c.Queue.Engine, c.Queue.DSN, c.Queue.Schema = config.EnginePostgres, dsn, "queue"
		c.Queue.Bodies = "s3://" + bucket + "/queue"
		c.Mailstores = []config.MailstoreEngine{{Name: config.DefaultMailstore, Engine: config.EnginePostgres,
			DSN: dsn, Schema: "store_default", Blobs: "s3://" + bucket + "/default"}}
	}
}

// forEngineSet runs f as one sub-benchmark per engine set, each on a node
// of its own, so the two sets are measured back to back in the same run.
func forEngineSet(b *testing.B, f func(b *testing.B, e *testEnv)) {
	for _, set := range engineSets {
		b.Run(set.name, func(b *testing.B) {
			f(b, startEnv(b, set.edit(b)))
		})
	}
}
