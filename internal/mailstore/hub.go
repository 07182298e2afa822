package mailstore

import "sync"

// Hub fans out "mailbox changed" signals to watchers in this process. An
// engine calls Notify after each commit; IMAP sessions in IDLE Watch.
type Hub struct {
	mu       sync.Mutex
	watchers map[hubKey]map[*watcher]struct{}
}

type hubKey struct {
	user      string
	mailboxID int64
}

type watcher struct{ ch chan struct{} }

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{watchers: make(map[hubKey]map[*watcher]struct{})} }

// AnyMailbox, as a mailbox ID for Watch, watches every mailbox of the
// user: IMAP NOTIFY (RFC 5465) reports changes anywhere in the account.
// Engines also Notify it for changes to no message, such as a created
// mailbox or a subscription.
const AnyMailbox int64 = 0

// Watch registers a watcher; the channel has room for one pending signal, so
// signals coalesce and Notify never blocks.
func (h *Hub) Watch(user string, mailboxID int64) (<-chan struct{}, func()) {
	w := &watcher{ch: make(chan struct{}, 1)}
	k := hubKey{user, mailboxID}
	h.mu.Lock()
	if h.watchers[k] == nil {
		h.watchers[k] = make(map[*watcher]struct{})
	}
	h.watchers[k][w] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return w.ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.watchers[k], w)
			if len(h.watchers[k]) == 0 {
				delete(h.watchers, k)
			}
			h.mu.Unlock()
		})
	}
}

// Notify signals every watcher of the mailbox, and the user's AnyMailbox
// watchers.
func (h *Hub) Notify(user string, mailboxID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.signal(hubKey{user, mailboxID})
	if mailboxID != AnyMailbox {
		h.signal(hubKey{user, AnyMailbox})
	}
}

func (h *Hub) signal(k hubKey) {
	for w := range h.watchers[k] {
		select {
		case w.ch <- struct{}{}:
		default:
		}
	}
}

// NotifyAll signals every watcher. An engine calls it when it may have
// missed changes it would otherwise Notify (a cross-node notification
// channel was down), so every session re-checks.
func (h *Hub) NotifyAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k := range h.watchers {
		h.signal(k)
	}
}
