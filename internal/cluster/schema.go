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
}
