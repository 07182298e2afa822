package directory

import (
	"context"
	"fmt"
)

// StoredPassword looks up the account at a canonical address and its
// stored password hash; found is false when there is no such account.
// Engines supply it to CheckPassword; err is for backend failures only.
type StoredPassword func(ctx context.Context, addr string) (acct Account, hash string, found bool, err error)

// CheckPassword is the Authenticate flow every engine shares. An unknown or
// malformed address costs the same argon2id work as a wrong password, so
// timing does not tell which accounts exist; any miss is ErrAuthFailed. A
// backend error or a corrupt stored hash is returned as an error of its own:
// it is the operator's problem, not a wrong password. lookup runs before
// the argon2id work, so an engine can release its connection first.
func CheckPassword(ctx context.Context, address, password string, lookup StoredPassword) (Account, error) {
	fail := fmt.Errorf("authenticate: %w", ErrAuthFailed)
	addr, err := NormalizeAddress(address)
	if err != nil {
		SpendVerifyTime(password)
		return Account{}, fail
	}
	acct, hash, found, err := lookup(ctx, addr)
	if err != nil {
		return Account{}, fmt.Errorf("authenticate %s: %w", addr, err)
	}
	if !found {
		SpendVerifyTime(password)
		return Account{}, fail
	}
	ok, err := VerifyPassword(hash, password)
	if err != nil {
		return Account{}, fmt.Errorf("authenticate %s: %w", addr, err)
	}
	if !ok {
		return Account{}, fail
	}
	return acct, nil
}
