package mailstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rookery-mail/rookery/internal/blob"
)

// BlobText is what an engine's full-text index and header cache keep of
// one blob.
type BlobText struct {
	Header, Body  string // searchable text of the header fields and the body
	HeaderSection []byte // HeaderSection of the raw message, for Headers
	Sent          *int64 // its Date in unix nanoseconds; nil when none is valid
	Missing       bool   // the blob store no longer has the blob
}

// ExtractBlob reads a blob and extracts its text with extract and, when
// sent is not nil, its sent date from the header section. A blob the store
// lacks is Missing, not an error, so an indexer can drop it from its queue.
func ExtractBlob(ctx context.Context, blobs blob.Store, id string,
	extract func(raw []byte) (header, body string), sent func(header []byte) (time.Time, bool)) (BlobText, error) {
	rc, err := blobs.Open(ctx, id)
	if errors.Is(err, blob.ErrNotFound) {
		return BlobText{Missing: true}, nil
	}
	if err != nil {
		return BlobText{}, fmt.Errorf("open blob %s: %w", id, err)
	}
	defer rc.Close()
	raw, err := io.ReadAll(rc)
	if err != nil {
		return BlobText{}, fmt.Errorf("read blob %s: %w", id, err)
	}
	t := BlobText{HeaderSection: HeaderSection(raw)}
	t.Header, t.Body = extract(raw)
	if sent != nil && t.HeaderSection != nil {
		if d, ok := sent(t.HeaderSection); ok {
			ns := d.UnixNano()
			t.Sent = &ns
		}
	}
	return t, nil
}
