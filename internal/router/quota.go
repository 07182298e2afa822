package router

import (
	"context"
	"errors"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

// Room reports how much more mail acct can receive before its quota is
// reached, in bytes and in messages; a negative value means no limit. An
// account of a mailstore another node serves, or not yet created in its
// store (it has no limits then), has no limit here: delivery checks again.
func (r *Router) Room(ctx context.Context, acct directory.Account) (bytes, messages int64, err error) {
	store, err := r.Store(acct)
	if errors.Is(err, ErrNoStore) {
		return -1, -1, nil
	}
	q, err := store.Quota(ctx, acct.Address)
	if errors.Is(err, mailstore.ErrNoAccount) {
		return -1, -1, nil
	}
	if err != nil {
		return 0, 0, err
	}
	bytes, messages = -1, -1
	if q.StorageLimit > 0 {
		bytes = max(q.StorageLimit-q.StorageUsed, 0)
	}
	if q.MessageLimit > 0 {
		messages = max(q.MessageLimit-q.MessagesUsed, 0)
	}
	return bytes, messages, nil
}
