package admin

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rookery-mail/rookery/internal/blob/fsblob"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/mailstore/sqlitestore"
)

// storeOpener opens mailstores under a temp dir, by name, as cmd/rookery
// does under the data dir.
func storeOpener(t *testing.T) func(ctx context.Context, name string) (mailstore.Store, error) {
	dir := t.TempDir()
	return func(ctx context.Context, name string) (mailstore.Store, error) {
		blobs, err := fsblob.Open(filepath.Join(dir, name, "blobs"))
		if err != nil {
			return nil, err
		}
		return sqlitestore.Open(ctx, sqlitestore.Options{Name: name, Path: filepath.Join(dir, name, "store.db"), Blobs: blobs})
	}
}

func TestUserQuota(t *testing.T) {
	open, _ := opener(t)
	stores := storeOpener(t)
	transcriptEnv(t, Env{Directory: open, Mailstore: stores}, `
		$ domain add example.test
		added domain example.test
		$ user add alice@example.test --password-stdin < pw
		created alice@example.test
		$ user quota alice@example.test
		alice@example.test storage 0/unlimited messages 0/unlimited
		$ user quota alice@example.test 500M
		alice@example.test storage 0/524288000 messages 0/unlimited
		$ user quota alice@example.test 2g 1000
		alice@example.test storage 0/2147483648 messages 0/1000
		$ user quota alice@example.test 0 0
		alice@example.test storage 0/unlimited messages 0/unlimited
		$ user quota alice@example.test 12345
		alice@example.test storage 0/12345 messages 0/unlimited
		$ user quota alice@example.test 5X
		! invalid size "5X"
		$ user quota alice@example.test 9999999999T
		! invalid size "9999999999T"
		$ user quota alice@example.test 1M many
		! invalid message count "many"
		$ user quota nobody@example.test 1M
		! account nobody@example.test does not exist
		$ user quota
		!usage user quota
	`)
	// The limits are the store's: a delivery over them fails, and the
	// usage shows.
	ctx := t.Context()
	s, err := stores(ctx, "store1")
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Deliver(ctx, []mailstore.Delivery{
		{User: "alice@example.test", Message: mailstore.NewMessage{Body: strings.NewReader(strings.Repeat("x", 100))}},
		{User: "alice@example.test", Message: mailstore.NewMessage{Body: strings.NewReader(strings.Repeat("x", 13000))}},
	})
	if err != nil || res[0].Err != nil || !errors.Is(res[1].Err, mailstore.ErrOverQuota) {
		t.Errorf("deliveries under and over the limit set by user quota: %+v, %v", res, err)
	}
	s.Close()
	transcriptEnv(t, Env{Directory: open, Mailstore: stores}, `
		$ user quota alice@example.test
		alice@example.test storage 100/12345 messages 1/unlimited
	`)
}
