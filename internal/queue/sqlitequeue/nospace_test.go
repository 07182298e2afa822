package sqlitequeue

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/rookery-mail/rookery/internal/queue"
)

// TestEnqueueDiskFullIsErrNoSpace: a database that cannot grow (here
// capped by max_page_count, as a full disk does) fails Enqueue with
// queue.ErrNoSpace, which SMTP answers 451 4.3.1.
func TestEnqueueDiskFullIsErrNoSpace(t *testing.T) {
	q, _ := open(t)
	defer q.Close()
	ctx := context.Background()
	var pages int
	if err := q.db.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := q.db.ExecContext(ctx, `PRAGMA max_page_count = `+strconv.Itoa(pages)); err != nil {
		t.Fatal(err)
	}
	err := q.Enqueue(ctx, msg(strings.Repeat("x", 1<<20), "a@local.test"))
	if !errors.Is(err, queue.ErrNoSpace) {
		t.Fatalf("enqueue into a full database: %v, want ErrNoSpace", err)
	}
}
