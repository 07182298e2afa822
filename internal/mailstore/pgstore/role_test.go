package pgstore

import (
	"fmt"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestOpenAsRestrictedRole: a role that may not create schemas opens a
// store in a schema its administrator made for it, on a database where
// pg_trgm is installed already.
func TestOpenAsRestrictedRole(t *testing.T) {
	env := newEnv(t)
	env.open(t, newSchema(), 0) // installs pg_trgm as the superuser
	ctx := t.Context()
	admin, err := pgx.Connect(ctx, env.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	// Roles are cluster-wide, and the cluster may be shared (ROOKERY_TEST_PG_DSN).
	role, schema := fmt.Sprintf("r_%d_%s", os.Getpid(), newSchema()), newSchema()
	var db string
	if err := admin.QueryRow(ctx, `SELECT current_database()`).Scan(&db); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE ROLE ` + role + ` LOGIN`,
		`REVOKE CREATE ON DATABASE ` + pgx.Identifier{db}.Sanitize() + ` FROM PUBLIC`,
		`CREATE SCHEMA ` + schema + ` AUTHORIZATION ` + role,
		`GRANT USAGE ON SCHEMA ` + extSchema + ` TO ` + role,
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		admin, err := pgx.Connect(t.Context(), env.dsn)
		if err == nil {
			admin.Exec(t.Context(), `DROP SCHEMA `+schema+` CASCADE`)
			admin.Exec(t.Context(), `DROP OWNED BY `+role)
			admin.Exec(t.Context(), `DROP ROLE `+role)
			admin.Close(t.Context())
		}
	})
	u, err := url.Parse(env.dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	restricted := testEnv{dsn: u.String(), blobs: env.blobs}
	s := restricted.open(t, schema, 0)
	if err := s.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	wantHealthy(t, s)
}
