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

// Notify signals every watcher of the mailbox.
func (h *Hub) Notify(user string, mailboxID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.watchers[hubKey{user, mailboxID}] {
		select {
		case w.ch <- struct{}{}:
		default:
		}
	}
}
