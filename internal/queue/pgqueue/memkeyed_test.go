package pgqueue

import (
	"bytes"
	"context"
	"io"
	"sync"

	"github.com/rookery-mail/rookery/internal/blob"
)

// memKeyed is a blob.Keyed in memory: the benchmark's baseline for the
// database's own cost, without a body store's.
type memKeyed struct{ m sync.Map }

func (k *memKeyed) PutKey(_ context.Context, key string, r io.Reader) (int64, error) {
	b, err := io.ReadAll(r)
	k.m.Store(key, b)
	return int64(len(b)), err
}
func (k *memKeyed) OpenKey(_ context.Context, key string) (io.ReadCloser, error) {
	v, ok := k.m.Load(key)
	if !ok {
		return nil, blob.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(v.([]byte))), nil
}
func (k *memKeyed) DeleteKey(_ context.Context, key string) error { k.m.Delete(key); return nil }
