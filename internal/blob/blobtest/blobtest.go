// Package blobtest is the conformance suite every blob.Store engine must
// pass (fsblob today, the S3 engine next), so the mailstore can rely on
// the same contract whatever holds the bodies: content-addressed ids in
// blob's scheme, durable dedupe, ErrNotFound for what is not there, and
// nothing readable from a Put that failed.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/blob"
)

// Open returns an empty store for one subtest, and a check the suite calls
// at the end of that subtest for engine-specific leftovers (temporary
// files, incomplete uploads); the check may be nil.
type Open func(t *testing.T) (blob.Store, func(t *testing.T))

// Run runs the suite against the engine open makes.
func Run(t *testing.T, open Open) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, blob.Store)
	}{
		{"RoundTrip", roundTrip},
		{"Large", large},
		{"Empty", empty},
		{"Dedupe", dedupe},
		{"OpenMissingAndInvalid", openMissing},
		{"Delete", deleteBlob},
		{"DeleteIfOlder", deleteIfOlder},
		{"FailedPutStoresNothing", failedPut},
		{"Canceled", canceled},
		{"ConcurrentPuts", concurrentPuts},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, check := open(t)
			tc.fn(t, s)
			if check != nil {
				check(t)
			}
		})
	}
}

func put(t *testing.T, s blob.Store, body []byte) string {
	t.Helper()
	id, size, err := s.Put(context.Background(), bytes.NewReader(body))
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if want := blob.ID(body); id != want {
		t.Fatalf("Put id = %s, want %s (blob.ID of the bytes)", id, want)
	}
	if size != int64(len(body)) {
		t.Fatalf("Put size = %d, want %d", size, len(body))
	}
	return id
}

func read(t *testing.T, s blob.Store, id string) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), id)
	if err != nil {
		t.Fatalf("Open(%s): %v", id, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", id, err)
	}
	return b
}

func roundTrip(t *testing.T, s blob.Store) {
	body := []byte("Subject: hi\r\n\r\nhello\r\n")
	if got := read(t, s, put(t, s, body)); !bytes.Equal(got, body) {
		t.Errorf("content = %q, want %q", got, body)
	}
}

// large streams a body bigger than any single buffer an engine might use
// (multipart uploads, copy buffers), with bytes that do not repeat.
func large(t *testing.T, s blob.Store) {
	body := make([]byte, 9<<20+123)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range body {
		body[i] = byte(r.Uint32())
	}
	if got := read(t, s, put(t, s, body)); !bytes.Equal(got, body) {
		t.Errorf("a %d-byte blob came back as %d bytes, or different", len(body), len(got))
	}
}

func empty(t *testing.T, s blob.Store) {
	if got := read(t, s, put(t, s, nil)); len(got) != 0 {
		t.Errorf("empty blob read back as %q", got)
	}
}

func dedupe(t *testing.T, s blob.Store) {
	id := put(t, s, []byte("same"))
	if id2 := put(t, s, []byte("same")); id2 != id {
		t.Errorf("second Put of the same bytes = %s, want %s", id2, id)
	}
	if got := read(t, s, id); string(got) != "same" {
		t.Errorf("content = %q", got)
	}
}

func openMissing(t *testing.T, s blob.Store) {
	ctx := context.Background()
	for _, id := range []string{blob.ID([]byte("never stored")), "../../etc/passwd", "", strings.Repeat("A", blob.IDLen), "a/b"} {
		if rc, err := s.Open(ctx, id); !errors.Is(err, blob.ErrNotFound) {
			if rc != nil {
				rc.Close()
			}
			t.Errorf("Open(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

func deleteBlob(t *testing.T, s blob.Store) {
	ctx := context.Background()
	id, kept := put(t, s, []byte("x")), put(t, s, []byte("kept"))
	if err := s.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, id); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open after Delete = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, id); err != nil {
		t.Errorf("Delete of a missing blob = %v, want nil", err)
	}
	if got := read(t, s, kept); string(got) != "kept" {
		t.Errorf("another blob after Delete = %q", got)
	}
}

// deleteIfOlder: the collectors' delete keeps a blob written after the
// cutoff, removes one written before it, and finds nothing to remove where
// there is no blob. (S3 cannot move an object's time, so a duplicate Put
// refreshes it only when the object is older than half a minute; below
// that its time is after any cutoff a collector uses, which is at least a
// minute back.)
func deleteIfOlder(t *testing.T, s blob.Store) {
	ctx := context.Background()
	id := put(t, s, []byte("collect me"))
	if deleted, err := s.DeleteIfOlder(ctx, id, time.Now().Add(-time.Minute)); err != nil || deleted {
		t.Fatalf("DeleteIfOlder with the cutoff before the Put = %v, %v; want kept", deleted, err)
	}
	if got := read(t, s, id); string(got) != "collect me" {
		t.Fatalf("kept blob reads %q", got)
	}
	if deleted, err := s.DeleteIfOlder(ctx, id, time.Now().Add(time.Minute)); err != nil || !deleted {
		t.Fatalf("DeleteIfOlder with the cutoff after the Put = %v, %v; want deleted", deleted, err)
	}
	if _, err := s.Open(ctx, id); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open after DeleteIfOlder = %v, want ErrNotFound", err)
	}
	if deleted, err := s.DeleteIfOlder(ctx, id, time.Now().Add(time.Minute)); err != nil || deleted {
		t.Errorf("DeleteIfOlder of a missing blob = %v, %v; want false, nil", deleted, err)
	}
}

// failedPut: a reader that fails midway makes Put fail, and neither the
// whole intended body nor the part read is readable afterwards.
func failedPut(t *testing.T, s blob.Store) {
	ctx := context.Background()
	if _, _, err := s.Put(ctx, io.MultiReader(strings.NewReader("part"), errReader{})); err == nil {
		t.Fatal("Put from a failing reader succeeded")
	}
	if _, err := s.Open(ctx, blob.ID([]byte("part"))); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("the part read before the failure is readable: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func canceled(t *testing.T, s blob.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.Put(ctx, strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a canceled context = %v, want context.Canceled", err)
	}
}

// concurrentPuts: writers of the same bytes race harmlessly, and writers
// of different bytes do not disturb each other.
func concurrentPuts(t *testing.T, s blob.Store) {
	ctx := context.Background()
	const n = 16
	var wg sync.WaitGroup
	ids := make([]string, 2*n)
	errs := make([]error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			ids[i], _, errs[i] = s.Put(ctx, strings.NewReader("concurrent body"))
		}()
		go func() {
			defer wg.Done()
			ids[n+i], _, errs[n+i] = s.Put(ctx, strings.NewReader("body "+strings.Repeat("x", i)))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Put %d: %v", i, err)
		}
	}
	for i := range n {
		if ids[i] != ids[0] {
			t.Errorf("same bytes, different ids: %s %s", ids[i], ids[0])
		}
		if got := read(t, s, ids[n+i]); string(got) != "body "+strings.Repeat("x", i) {
			t.Errorf("blob %d = %q", i, got)
		}
	}
}
