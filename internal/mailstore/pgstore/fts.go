package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rookery-mail/rookery/internal/blob"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

// The full-text index answers SEARCH BODY/TEXT without reading every
// blob. Unlike sqlitestore, which indexes in the background, Append and
// Deliver extract the text of new blobs before their transaction and
// index it inside it, before the messages, so each message row is written
// once with its sent date (addDocs, dropUnusedDocs): PostgreSQL has no
// single writer that indexing would hold up, and searches never need to
// read unindexed mail. The price is one read of each new blob and its
// extraction on the delivery path.
// Blobs a message references without an index entry (a store opened
// without an extractor) are queued in fts_pending; IndexPending drains
// the queue and SearchText extracts queued blobs of its mailbox on the spot.

const (
	// trigramRunes is the index's grain: pg_trgm cannot narrow a LIKE
	// with fewer characters, so such needles are left to the caller's scan,
	// as in sqlitestore.
	trigramRunes = 3
	// pendingBatch is the most queued blobs one IndexPending
	// transaction takes.
	pendingBatch = 200
)

// textIndex holds what the index needs from the protocol layer.
type textIndex struct {
	extract func(raw []byte) (header, body string)
	fold    func(s string) string
	sent    func(header []byte) (time.Time, bool)
}

// ftsDoc is one blob's extracted text; missing marks a blob the blob
// store no longer has.
type ftsDoc struct {
	blobID    string
	hdr, body string
	header    []byte // the raw top-level header section, for the cache
	sent      *int64 // its Date in unix nanoseconds; nil when none is valid
	missing   bool
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
	d := ftsDoc{blobID: blobID, hdr: pgText(hdr), body: pgText(body), header: mailstore.HeaderSection(raw)}
	if s.text.sent != nil && d.header != nil {
		if t, ok := s.text.sent(d.header); ok {
			ns := t.UnixNano()
			d.sent = &ns
		}
	}
	return d, nil
}

// pgText makes extracted text storable as PostgreSQL text, which holds
// neither NUL nor invalid UTF-8. NUL becomes a line break: needles never
// contain either (SearchText), so no match can span one, as in SQLite.
func pgText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\n")
}

// extractNew extracts the blobs among ids that have no index entry yet;
// nil without an index. Only the lookup's failure is an error: a blob that
// cannot be read now is left out, and indexed later.
func (s *Store) extractNew(ctx context.Context, ids []string) ([]ftsDoc, error) {
	if s.text == nil || len(ids) == 0 {
		return nil, nil
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	rows, _ := s.pool.Query(ctx, `SELECT blob_id FROM fts_docs WHERE blob_id = ANY($1)`, ids)
	have, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("look up index: %w", err)
	}
	var docs []ftsDoc
	for _, id := range ids {
		if slices.Contains(have, id) {
			continue
		}
		d, err := s.extractBlob(ctx, id)
		if err != nil {
			// The delivery goes on without the entry: its transaction
			// queues the blob (queueUnindexed) for IndexPending.
			s.log.Warn("full-text indexing at delivery failed", "blob", id, "err", err)
			continue
		}
		docs = append(docs, d)
	}
	return docs, nil
}

// addDocs stores the documents before the messages that reference them
// are inserted, and returns the blobs it added. Documents already there
// are kept (blobs are content-addressed).
func (w *writeTx) addDocs(ctx context.Context, docs []ftsDoc) ([]string, error) {
	batch := &pgx.Batch{}
	var added []string
	for _, d := range docs {
		if d.missing {
			continue
		}
		batch.Queue(`INSERT INTO fts_docs (blob_id, header, sent, hdr, body)
			VALUES ($1, coalesce($2, ''::bytea), $3, $4, $5) ON CONFLICT (blob_id) DO NOTHING`,
			d.blobID, d.header, d.sent, d.hdr, d.body).Exec(func(tag pgconn.CommandTag) error {
			if tag.RowsAffected() > 0 {
				added = append(added, d.blobID)
			}
			return nil
		})
	}
	if batch.Len() == 0 {
		return nil, nil
	}
	if err := w.tx.SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("index %d blobs: %w", batch.Len(), err)
	}
	return added, nil
}

// dropUnusedDocs removes the documents addDocs added whose delivery
// failed (over quota, no account), so no document outlives every message
// of its blob without garbage collection knowing of it.
func (w *writeTx) dropUnusedDocs(ctx context.Context, added []string) error {
	if len(added) == 0 {
		return nil
	}
	_, err := w.tx.Exec(ctx, `DELETE FROM fts_docs d WHERE d.blob_id = ANY($1)
		AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.blob_id = d.blob_id)`, added)
	if err != nil {
		return fmt.Errorf("drop unused index entries: %w", err)
	}
	return nil
}

// indexDocs indexes queued blobs (IndexPending): it stores the documents
// of blobs some message references (one collected meanwhile gets none),
// sets those messages' sent date and takes the blobs off the queue. A
// missing blob is only dequeued.
func (w *writeTx) indexDocs(ctx context.Context, docs []ftsDoc) error {
	if len(docs) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	for _, d := range docs {
		batch.Queue(`DELETE FROM fts_pending WHERE blob_id = $1`, d.blobID)
		if d.missing {
			continue
		}
		batch.Queue(`INSERT INTO fts_docs (blob_id, header, sent, hdr, body)
			SELECT $1, coalesce($2, ''::bytea), $3, $4, $5 WHERE EXISTS (SELECT 1 FROM messages WHERE blob_id = $1)
			ON CONFLICT (blob_id) DO NOTHING`, d.blobID, d.header, d.sent, d.hdr, d.body)
		batch.Queue(`UPDATE messages SET sent = coalesce($2, internaldate) WHERE blob_id = $1 AND sent IS NULL`,
			d.blobID, d.sent)
	}
	if err := w.tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("index %d blobs: %w", len(docs), err)
	}
	return nil
}

// IndexPending indexes every queued blob and returns when the queue is
// empty. Tests and maintenance call it to wait for the index.
func (s *Store) IndexPending(ctx context.Context) error {
	if s.text == nil {
		return fmt.Errorf("index pending: %w", mailstore.ErrNoIndex)
	}
	for {
		rows, _ := s.pool.Query(ctx, `SELECT blob_id FROM fts_pending LIMIT $1`, pendingBatch)
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("index pending: list queue: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		var docs []ftsDoc
		for _, id := range ids {
			d, err := s.extractBlob(ctx, id)
			if err != nil {
				return fmt.Errorf("index pending: %w", err)
			}
			docs = append(docs, d)
		}
		if err := s.write(ctx, "index text", func(w *writeTx) error { return w.indexDocs(ctx, docs) }); err != nil {
			return err
		}
	}
}

// forgetText drops a blob's index entry and queue row; CollectGarbage
// calls it holding the blob's blob_refs row with no reference left.
func (w *writeTx) forgetText(ctx context.Context, blobID string) error {
	for _, q := range []string{
		`DELETE FROM fts_docs WHERE blob_id = $1`,
		`DELETE FROM fts_pending WHERE blob_id = $1`,
	} {
		if _, err := w.tx.Exec(ctx, q, blobID); err != nil {
			return fmt.Errorf("forget text of blob %s: %w", blobID, err)
		}
	}
	return nil
}

// SearchText answers SEARCH BODY (TextBody) and TEXT (TextAll) from the
// index, and for messages whose blob is still queued by extracting it now.
// Needles shorter than a trigram, or spanning a line break (the extractor
// joins separately matched pieces with "\n"), return ErrNoIndex, the same
// rules as sqlitestore's.
func (s *Store) SearchText(ctx context.Context, user string, mailboxID int64, field mailstore.TextField, needle string) ([]uint32, error) {
	if s.text == nil {
		return nil, mailstore.ErrNoIndex
	}
	folded := s.text.fold(needle)
	if utf8.RuneCountInString(folded) < trigramRunes || strings.ContainsAny(folded, "\n\x00") || !utf8.ValidString(folded) {
		return nil, mailstore.ErrNoIndex
	}
	var uids []uint32
	var pending []pendingMessage
	err := s.read(ctx, func(tx pgx.Tx) error {
		if _, err := ownedMailbox(ctx, tx, user, mailboxID); err != nil {
			return err
		}
		match := `d.body LIKE $2`
		if field == mailstore.TextAll {
			match = `(d.body LIKE $2 OR d.hdr LIKE $2)`
		}
		// QueryExecModeExec: an unnamed statement, planned for this
		// needle. The generic plan of a cached statement cannot tell a
		// rare needle from a common one and was 10x slower (measured,
		// BenchmarkSearchText).
		rows, _ := tx.Query(ctx, `SELECT m.uid FROM fts_docs d JOIN messages m ON m.blob_id = d.blob_id
			WHERE m.mailbox_id = $1 AND `+match, pgx.QueryExecModeExec, mailboxID, likeContains(folded))
		var err error
		if uids, err = pgx.CollectRows(rows, pgx.RowTo[uint32]); err != nil {
			return err
		}
		rows, _ = tx.Query(ctx, `SELECT m.uid, m.blob_id FROM fts_pending p JOIN messages m ON m.blob_id = p.blob_id
			WHERE m.mailbox_id = $1`, mailboxID)
		pending, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (pendingMessage, error) {
			var p pendingMessage
			err := r.Scan(&p.uid, &p.blobID)
			return p, err
		})
		return err
	})
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
	if len(uids) == 0 {
		return nil, nil
	}
	slices.Sort(uids)
	return uids, nil
}

type pendingMessage struct {
	uid    uint32
	blobID string
}
