package cluster

// migrations create the node registry and the store leases. Times are the
// database's: no node clock decides who holds a lease.
var migrations = []string{
	`CREATE TABLE nodes (
		name         text PRIMARY KEY,
		roles        text[] NOT NULL,
		stores       text[] NOT NULL,     -- the stores it may serve (mailstore role)
		endpoints    jsonb NOT NULL,      -- proto → host:port
		started_at   timestamptz NOT NULL DEFAULT now(),
		heartbeat_at timestamptz NOT NULL DEFAULT now()
	);
	CREATE TABLE leases (
		store      text PRIMARY KEY,
		holder     text,
		epoch      bigint NOT NULL DEFAULT 0,
		expires_at timestamptz NOT NULL DEFAULT 'epoch'
	);`,
	// One row per (store, epoch) at most, and epoch a key column: a
	// takeover (epoch + 1) locks the row FOR UPDATE, a renewal
	// (expires_at only) FOR NO KEY UPDATE. The stores' fencing check
	// takes FOR SHARE at the end of each write, which both wait for.
	`CREATE UNIQUE INDEX leases_store_epoch ON leases (store, epoch)`,
}

// LeaseTable is the lease table in schema as "schema.leases", for the
// mailstore engine's fencing check (which quotes each part).
func LeaseTable(schema string) string { return schema + ".leases" }
