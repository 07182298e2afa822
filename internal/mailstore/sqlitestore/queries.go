package sqlitestore

// Hot queries, prepared once per connection at Open (see stmtCache).
const (
	qSetCounters     = `UPDATE mailboxes SET uidnext = ?, highestmodseq = ? WHERE id = ?`
	qCounters        = `SELECT uidnext, highestmodseq FROM mailboxes WHERE id = ?`
	qOwnedMailbox    = `SELECT m.name FROM mailboxes m JOIN accounts a ON a.id = m.account_id WHERE m.id = ? AND a.name = ?`
	qAccountID       = `SELECT id FROM accounts WHERE name = ?`
	qMessages        = `SELECT ` + messageCols + ` FROM messages WHERE mailbox_id = ? ORDER BY uid`
	qChangesCounters = `SELECT highestmodseq, uidnext FROM mailboxes WHERE id = ?`
	qUpdatedSince    = `SELECT ` + messageCols + ` FROM messages WHERE mailbox_id = ? AND modseq > ? ORDER BY uid`
	qExpungedSince   = `SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid`
	qMailboxByID     = `SELECT ` + mailboxCols + ` FROM mailboxes WHERE id = ?`
	qStatusCounts    = `SELECT count(*), coalesce(sum(1 - seen), 0), coalesce(sum(deleted), 0), coalesce(sum(size), 0), coalesce(sum(uid >= (SELECT recent_uid FROM mailboxes WHERE id = ?1)), 0) FROM messages WHERE mailbox_id = ?1`
	qMailboxList     = `SELECT ` + mailboxCols + ` FROM mailboxes WHERE account_id = ? ORDER BY name`
	qMailboxByName   = `SELECT ` + mailboxCols + ` FROM mailboxes WHERE account_id = ? AND name = ?`
	qInsertMessage   = `INSERT INTO messages (mailbox_id, uid, modseq, flags, seen, deleted, internaldate, savedate, size, blob_id, delivery_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qDuplicate       = `SELECT mb.name, m.uid FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id WHERE m.delivery_id = ?`
	qQuota           = `SELECT quota_storage, quota_messages, used_storage, used_messages FROM accounts WHERE name = ?`
)

// hotQueries are prepared at Open on both pools.
var hotQueries = []string{
	qSetCounters,
	qCounters,
	qOwnedMailbox,
	qAccountID,
	qMessages,
	qChangesCounters,
	qUpdatedSince,
	qExpungedSince,
	qMailboxByID,
	qStatusCounts,
	qMailboxList,
	qMailboxByName,
	qInsertMessage,
	qDuplicate,
	qQuota,
}
