package storetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// testBlobMissing: a body the blob store does not have is reported as
// mailstore.ErrBlobMissing, whatever the blob store, so IMAP and POP3 can
// answer it without importing the blob package.
func testBlobMissing(t *testing.T, h *harness) {
	for _, id := range []string{strings.Repeat("0", 64), "not-an-id"} {
		rc, err := h.s.OpenBlob(h.ctx, id)
		if err == nil {
			rc.Close()
		}
		if !errors.Is(err, mailstore.ErrBlobMissing) {
			t.Errorf("OpenBlob(%q) = %v; want ErrBlobMissing", id, err)
		}
	}
}
