package authlimit

import "container/list"

// table is a map bounded to max entries that forgets the least recently
// used one first, so a spray of addresses or account names costs memory
// in proportion to max, not to the spray.
type table[V any] struct {
	max   int
	order list.List // front: most recently used; values are *entry[V]
	byKey map[string]*list.Element
}

type entry[V any] struct {
	key string
	val V
}

func newTable[V any](max int) *table[V] {
	return &table[V]{max: max, byKey: map[string]*list.Element{}}
}

// get returns key's value, or nil, and marks it used.
func (t *table[V]) get(key string) *V {
	el, ok := t.byKey[key]
	if !ok {
		return nil
	}
	t.order.MoveToFront(el)
	return &el.Value.(*entry[V]).val
}

// at returns key's value, adding a zero value (and evicting the least
// recently used entry when full) if key is new. The pointer is valid
// until the entry is evicted or removed.
func (t *table[V]) at(key string) *V {
	if v := t.get(key); v != nil {
		return v
	}
	if t.order.Len() >= t.max {
		oldest := t.order.Back()
		t.order.Remove(oldest)
		delete(t.byKey, oldest.Value.(*entry[V]).key)
	}
	e := &entry[V]{key: key}
	t.byKey[key] = t.order.PushFront(e)
	return &e.val
}

func (t *table[V]) remove(key string) {
	if el, ok := t.byKey[key]; ok {
		t.order.Remove(el)
		delete(t.byKey, key)
	}
}

func (t *table[V]) len() int { return t.order.Len() }
