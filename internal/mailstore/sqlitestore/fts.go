package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/rookery-mail/rookery/internal/blob"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

// The full-text index (schema migration 3) answers SEARCH BODY/TEXT
// without reading every blob. Delivery only queues a new blob in
// fts_pending (a trigger, inside the delivery's transaction); a background
// indexer extracts the text outside any transaction and inserts it in
// batches. SearchText answers from the index plus, for blobs still queued,
// by extracting them on the spot, so results never lag behind deliveries.

const (
	// indexBatch is the most blobs one indexing transaction takes, and
	// indexBatchText the most extracted text: each batch holds the single
	// write connection, so deliveries wait for it.
	indexBatch     = 200
	indexBatchText = 8 << 20
	// indexRetry is how long the indexer waits after a failure (a blob
	// store outage) before trying again without a new commit to wake it.
	indexRetry = time.Minute
	// indexQuiet and indexBacklog make the background indexer yield to
	// deliveries: it waits until no other commit has happened for
	// indexQuiet, unless more than indexBacklog blobs are queued. Indexing
	// costs about a core at delivery rates (BenchmarkIndexPending): run
	// alongside a burst of LMTP deliveries on two cores it cut throughput
	// by a third (measured with a backlog bound of 2,000). Delivery comes
	// first; a search meanwhile reads the queued messages of its mailbox
	// directly, so the bound only caps how slow that can get.
	indexQuiet   = 300 * time.Millisecond
	indexBacklog = 50000
	// indexPausePoll is how often a paused indexer (Options.Pause: disk
	// space low) looks again without a commit to wake it.
	indexPausePoll = 10 * time.Second
	// trigramRunes is the index's grain: shorter needles match nothing in
	// an FTS5 trigram index, so they are scanned.
	trigramRunes = 3
)

// textIndex holds what the index needs from the protocol layer and the
// background indexer's lifecycle.
type textIndex struct {
	extract func(raw []byte) (header, body string)
	fold    func(s string) string
	sent    func(header []byte) (time.Time, bool)
	// pause reports low disk space (Options.Pause); nil never pauses.
	pause func() bool
	mu    sync.Mutex // one drain of fts_pending at a time
	wake  chan struct{}
	// lastWrite is when a commit other than the indexer's own last
	// happened, in unix nanoseconds.
	lastWrite atomic.Int64
	stop      context.CancelFunc
	done      chan struct{}
}

// startIndexer starts the background indexer; it first drains what is
// already queued (for example by migration 3 on an existing store).
func (s *Store) startIndexer() {
	ctx, cancel := context.WithCancel(context.Background())
	ix := s.text
	ix.wake, ix.stop, ix.done = make(chan struct{}, 1), cancel, make(chan struct{})
	ix.wake <- struct{}{}
	go func() {
		defer close(ix.done)
		var retry <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case <-ix.wake:
			case <-retry:
			}
			retry = nil
			if err := s.indexInBackground(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("full-text indexing failed", "err", err)
				retry = time.After(indexRetry)
			}
		}
	}()
}

// stopIndexer stops the background indexer and waits for it; an
// interrupted batch is rolled back and stays queued.
func (s *Store) stopIndexer() {
	if s.text == nil || s.text.stop == nil {
		return
	}
	s.text.stop()
	<-s.text.done
}

// wakeIndexer tells the indexer that a commit may have queued blobs.
func (s *Store) wakeIndexer() {
	if s.text == nil || s.text.wake == nil {
		return
	}
	s.text.lastWrite.Store(time.Now().UnixNano())
	select {
	case s.text.wake <- struct{}{}:
	default:
	}
}

// ftsDoc is one queued blob's extracted text; missing marks a blob the
// blob store no longer has.
type ftsDoc struct {
	blobID    string
	hdr, body string
	header    []byte // the raw top-level header section, for the cache
	sent      *int64 // its Date in unix nanoseconds; nil when none is valid
	missing   bool
}

// IndexPending indexes every queued blob and returns when the queue is
// empty. Tests and maintenance call it to wait for the index.
func (s *Store) IndexPending(ctx context.Context) error {
	if s.text == nil {
		return fmt.Errorf("index pending: %w", mailstore.ErrNoIndex)
	}
	for {
		more, err := s.indexBatch(ctx)
		if err != nil || !more {
			return err
		}
	}
}

// indexInBackground is IndexPending yielding to deliveries: before each
// batch it waits while disk space is low (the index would take what
// deliveries need; searches read unindexed mail directly meanwhile), then
// for a quiet store (indexQuiet) unless the backlog has grown past
// indexBacklog.
func (s *Store) indexInBackground(ctx context.Context) error {
	for {
		if err := s.waitUnpaused(ctx); err != nil {
			return err
		}
		if err := s.waitQuiet(ctx); err != nil {
			return err
		}
		more, err := s.indexBatch(ctx)
		if err != nil || !more {
			return err
		}
	}
}

func (s *Store) waitUnpaused(ctx context.Context) error {
	if s.text.pause == nil {
		return nil
	}
	for s.text.pause() {
		// A commit wakes it too: space may be back already.
		t := time.NewTimer(indexPausePoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		case <-s.text.wake:
			t.Stop()
		}
	}
	return nil
}

func (s *Store) waitQuiet(ctx context.Context) error {
	for {
		idle := time.Since(time.Unix(0, s.text.lastWrite.Load()))
		if idle >= indexQuiet {
			return nil
		}
		var queued int
		if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM fts_pending`).Scan(&queued); err != nil {
			return fmt.Errorf("index pending: count queue: %w", err)
		}
		if queued >= indexBacklog {
			return nil
		}
		t := time.NewTimer(indexQuiet - idle)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// indexBatch indexes one batch of queued blobs and reports whether any
// were queued.
func (s *Store) indexBatch(ctx context.Context) (bool, error) {
	s.text.mu.Lock()
	defer s.text.mu.Unlock()
	ids, err := s.pendingBlobs(ctx)
	if err != nil || len(ids) == 0 {
		return false, err
	}
	var docs []ftsDoc
	size := 0
	for _, id := range ids {
		if size >= indexBatchText {
			break // the rest stays queued for the next batch
		}
		d, err := s.extractBlob(ctx, id)
		if err != nil {
			return false, fmt.Errorf("index pending: %w", err)
		}
		docs = append(docs, d)
		size += len(d.hdr) + len(d.body)
	}
	err = s.write(ctx, "index text", func(w *writeTx) error {
		w.indexing = true
		return w.indexDocs(ctx, docs)
	})
	return true, err
}

func (s *Store) pendingBlobs(ctx context.Context) ([]string, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT blob_id FROM fts_pending LIMIT ?`, indexBatch)
	if err != nil {
		return nil, fmt.Errorf("index pending: list queue: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("index pending: list queue: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index pending: list queue: %w", err)
	}
	return ids, nil
}

// extractBlob reads a blob and extracts its searchable text.
func (s *Store) extractBlob(ctx context.Context, blobID string) (ftsDoc, error) {
	rc, err := s.blobs.Open(ctx, blobID)
	if errors.Is(err, blob.ErrNotFound) {
		return ftsDoc{blobID: blobID, missing: true}, nil
	}
	if err != nil {
		return ftsDoc{}, fmt.Errorf("open blob %s: %w", blobID, err)
	}
	defer rc.Close()
	raw, err := io.ReadAll(rc)
	if err != nil {
		return ftsDoc{}, fmt.Errorf("read blob %s: %w", blobID, err)
	}
	hdr, body := s.text.extract(raw)
	d := ftsDoc{blobID: blobID, hdr: hdr, body: body, header: mailstore.HeaderSection(raw)}
	if s.text.sent != nil && d.header != nil {
		if t, ok := s.text.sent(d.header); ok {
			ns := t.UnixNano()
			d.sent = &ns
		}
	}
	return d, nil
}

// indexDocs inserts the documents still queued and dequeues them. A blob
// dequeued meanwhile (collected as garbage) is skipped; a missing blob is
// dequeued without a document, so a later Put of the same content, which
// the trigger queues again, gets indexed.
func (w *writeTx) indexDocs(ctx context.Context, docs []ftsDoc) error {
	dequeue, err := w.tx.PrepareContext(ctx, `DELETE FROM fts_pending WHERE blob_id = ?`)
	if err != nil {
		return err
	}
	defer dequeue.Close()
	addDoc, err := w.tx.PrepareContext(ctx, `INSERT INTO fts_docs (blob_id, header, sent) VALUES (?, coalesce(?, x''), ?) ON CONFLICT (blob_id) DO NOTHING RETURNING id`)
	if err != nil {
		return err
	}
	defer addDoc.Close()
	setSent, err := w.tx.PrepareContext(ctx, `UPDATE messages SET sent = coalesce(?, internaldate) WHERE blob_id = ? AND sent IS NULL`)
	if err != nil {
		return err
	}
	defer setSent.Close()
	var rows []any // rowid, hdr, body per document, for one INSERT
	for _, d := range docs {
		res, err := dequeue.ExecContext(ctx, d.blobID)
		if err != nil {
			return fmt.Errorf("dequeue blob %s: %w", d.blobID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 || d.missing {
			continue
		}
		var id int64
		err = addDoc.QueryRowContext(ctx, d.blobID, d.header, d.sent).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			continue // already indexed
		}
		if err != nil {
			return fmt.Errorf("index blob %s: %w", d.blobID, err)
		}
		rows = append(rows, id, d.hdr, d.body)
		if _, err := setSent.ExecContext(ctx, d.sent, d.blobID); err != nil {
			return fmt.Errorf("index blob %s: sent date: %w", d.blobID, err)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	// One statement for the whole batch: FTS5 writes its pending terms out
	// as a new segment at every statement savepoint, so a statement per
	// document made a segment per document and most of the indexing time
	// went into merging them (measured).
	q := "INSERT INTO fts (rowid, hdr, body) VALUES " + strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", len(rows)/3), ", ")
	if _, err := w.tx.ExecContext(ctx, q, rows...); err != nil {
		return fmt.Errorf("index %d blobs: %w", len(rows)/3, err)
	}
	return nil
}

// forgetBlobs drops the index entries of blobs garbage collection deleted,
// unless a message references the blob again (a new Put of the same
// content): its entry is still right, since blobs are content-addressed.
func (s *Store) forgetBlobs(ctx context.Context, blobIDs []string) error {
	if len(blobIDs) == 0 {
		return nil
	}
	return s.write(ctx, "forget text", func(w *writeTx) error {
		for _, id := range blobIDs {
			if err := w.forgetText(ctx, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// forgetText drops one blob's index entries unless a message references
// it. A later message with the same blob queues it again (the
// messages_fts_pending trigger).
func (w *writeTx) forgetText(ctx context.Context, blobID string) error {
	for _, q := range []string{
		`DELETE FROM fts WHERE rowid = (SELECT id FROM fts_docs WHERE blob_id = ?1) AND NOT EXISTS (SELECT 1 FROM messages WHERE blob_id = ?1)`,
		`DELETE FROM fts_docs WHERE blob_id = ?1 AND NOT EXISTS (SELECT 1 FROM messages WHERE blob_id = ?1)`,
		`DELETE FROM fts_pending WHERE blob_id = ?1 AND NOT EXISTS (SELECT 1 FROM messages WHERE blob_id = ?1)`,
	} {
		if _, err := w.tx.ExecContext(ctx, q, blobID); err != nil {
			return fmt.Errorf("forget text of blob %s: %w", blobID, err)
		}
	}
	return nil
}

// SearchText answers SEARCH BODY (TextBody) and TEXT (TextAll) from the
// index, and for messages whose blob is still queued by extracting it now.
// Needles shorter than a trigram, or spanning a line break (the index
// joins separately matched pieces with "\n"), return ErrNoIndex.
func (s *Store) SearchText(ctx context.Context, user string, mailboxID int64, field mailstore.TextField, needle string) ([]uint32, error) {
	if s.text == nil {
		return nil, mailstore.ErrNoIndex
	}
	folded := s.text.fold(needle)
	if utf8.RuneCountInString(folded) < trigramRunes || strings.ContainsAny(folded, "\n\x00") {
		return nil, mailstore.ErrNoIndex
	}
	uids, pending, err := s.searchIndex(ctx, user, mailboxID, field, folded)
	if err != nil {
		return nil, fmt.Errorf("search text in mailbox %d: %w", mailboxID, err)
	}
	for _, p := range pending {
		d, err := s.extractBlob(ctx, p.blobID)
		if err != nil {
			return nil, fmt.Errorf("search text in mailbox %d: %w", mailboxID, err)
		}
		if strings.Contains(d.body, folded) || field == mailstore.TextAll && strings.Contains(d.hdr, folded) {
			uids = append(uids, p.uid)
		}
	}
	slices.Sort(uids)
	return uids, nil
}

type pendingMessage struct {
	uid    uint32
	blobID string
}

// searchIndex returns, from one snapshot, the UIDs the index matches and
// the messages whose blob is not indexed yet.
func (s *Store) searchIndex(ctx context.Context, user string, mailboxID int64, field mailstore.TextField, folded string) ([]uint32, []pendingMessage, error) {
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	if _, err := ownedMailbox(ctx, tx, user, mailboxID); err != nil {
		return nil, nil, err
	}
	// An FTS5 string is literal except for doubled quotes; with the
	// trigram tokenizer the phrase matches as a substring.
	match := `"` + strings.ReplaceAll(folded, `"`, `""`) + `"`
	if field == mailstore.TextBody {
		match = "body : " + match
	}
	// The index hits drive the join, each finding its messages by blob.
	// Left to itself SQLite picks the mailbox_id index instead and scans
	// the whole mailbox per hit: 40 s for a common word in 5,000 messages
	// (measured), hence CROSS JOIN and INDEXED BY.
	rows, err := tx.QueryContext(ctx, `SELECT m.uid FROM fts CROSS JOIN fts_docs d ON d.id = fts.rowid
		CROSS JOIN messages m INDEXED BY messages_blob ON m.blob_id = d.blob_id
		WHERE fts MATCH ? AND m.mailbox_id = ?`, match, mailboxID)
	if err != nil {
		return nil, nil, err
	}
	var uids []uint32
	for rows.Next() {
		var uid uint32
		if err := rows.Scan(&uid); err != nil {
			rows.Close()
			return nil, nil, err
		}
		uids = append(uids, uid)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	rows, err = tx.QueryContext(ctx, `SELECT m.uid, m.blob_id FROM fts_pending p
		CROSS JOIN messages m INDEXED BY messages_blob ON m.blob_id = p.blob_id
		WHERE m.mailbox_id = ?`, mailboxID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var pending []pendingMessage
	for rows.Next() {
		var p pendingMessage
		if err := rows.Scan(&p.uid, &p.blobID); err != nil {
			return nil, nil, err
		}
		pending = append(pending, p)
	}
	return uids, pending, rows.Err()
}
