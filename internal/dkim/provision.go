package dkim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rookery-mail/rookery/internal/directory"
)

// AddDomain adds domain to d with new signing keys, so that mail from it is
// signed from the start (`rookery domain add`, the quickstart). Keys are
// generated first: that is the slow part and may fail, and must not leave a
// domain that signs nothing. directory.ErrExists if the domain exists.
func AddDomain(ctx context.Context, d directory.Directory, domain string, now time.Time) ([]directory.DKIMKey, error) {
	keys, err := GenerateKeys(domain, now)
	if err != nil {
		return nil, err
	}
	if err := d.AddDomain(ctx, keys[0].Domain); err != nil {
		return nil, err
	}
	if err := storeKeys(ctx, d, keys); err != nil {
		// The domain is new and empty, so deleting it undoes the add and
		// the caller can simply try again.
		return nil, errors.Join(fmt.Errorf("add DKIM keys of %s: %w", keys[0].Domain, err), d.DeleteDomain(ctx, keys[0].Domain))
	}
	return keys, nil
}

// AddMissingKeys gives an existing domain that has no signing keys new ones
// (a domain added before rookery made keys). A domain with keys gets
// directory.ErrExists: rotation needs the new record published before the
// new key signs, which this cannot wait for.
func AddMissingKeys(ctx context.Context, d directory.Directory, domain string, now time.Time) ([]directory.DKIMKey, error) {
	have, err := d.DKIMKeys(ctx, domain)
	if err != nil {
		return nil, err
	}
	if len(have) > 0 {
		return nil, directory.ErrExists
	}
	keys, err := GenerateKeys(domain, now)
	if err != nil {
		return nil, err
	}
	if err := storeKeys(ctx, d, keys); err != nil {
		return nil, fmt.Errorf("add DKIM keys of %s: %w", domain, err)
	}
	return keys, nil
}

func storeKeys(ctx context.Context, d directory.Directory, keys []directory.DKIMKey) error {
	for _, k := range keys {
		if err := d.AddDKIMKey(ctx, k); err != nil {
			return err
		}
	}
	return nil
}
