package imap

import "strings"

// threadReferences threads msgs (in sequence order) with the REFERENCES
// algorithm of RFC 5256 §3, which follows Jamie Zawinski's: link messages
// through References/In-Reply-To, prune dummies, merge root threads that
// share a base subject, and sort siblings by sent date.
func threadReferences(msgs []*sortMsg) []*threadNode {
	roots := linkReferences(msgs)
	roots = pruneDummies(roots, true)
	// Step 5: sort the root set, ordering a dummy's children first so its
	// first child stands for it.
	for _, r := range roots {
		if r.msg == nil {
			sortNodes(r.children)
		}
	}
	sortNodes(roots)
	roots = groupBySubject(roots)
	sortTree(roots) // step 7
	return roots
}

// linkReferences performs steps 1 and 2: it builds the containers by
// Message-ID and returns the root set in creation order.
func linkReferences(msgs []*sortMsg) []*threadNode {
	table := make(map[string]*threadNode)
	var all []*threadNode
	get := func(id string) *threadNode {
		n := table[id]
		if n == nil {
			n = &threadNode{}
			table[id] = n
			all = append(all, n)
		}
		return n
	}
	for _, sm := range msgs {
		// A message with no Message-ID, or a duplicate one, gets a
		// container of its own, as if its ID were unique.
		var own *threadNode
		if id := firstMsgID(sm.hdr.HeaderValues("Message-ID")); id != "" && (table[id] == nil || table[id].msg == nil) {
			own = get(id)
		} else {
			own = &threadNode{}
			all = append(all, own)
		}
		own.msg = sm
		// Step 1A: chain the references, keeping existing parents and
		// never creating a loop.
		var prev *threadNode
		for _, id := range messageRefs(sm) {
			n := get(id)
			if prev != nil && n.parent == nil && !wouldLoop(prev, n) {
				link(prev, n)
			}
			prev = n
		}
		// Step 1B: the last reference is the parent; the References
		// header is authoritative, so an earlier guess is broken first.
		if own.parent != nil {
			unlink(own)
		}
		if prev != nil && !wouldLoop(prev, own) {
			link(prev, own)
		}
	}
	var roots []*threadNode
	for _, n := range all {
		if n.parent == nil {
			roots = append(roots, n)
		}
	}
	return roots
}

// wouldLoop reports whether making child a child of parent creates a
// cycle: child is parent or one of its ancestors.
func wouldLoop(parent, child *threadNode) bool {
	for p := parent; p != nil; p = p.parent {
		if p == child {
			return true
		}
	}
	return false
}

func link(parent, child *threadNode) {
	child.parent = parent
	parent.children = append(parent.children, child)
}

func unlink(n *threadNode) {
	p := n.parent
	for i, c := range p.children {
		if c == n {
			p.children = append(p.children[:i], p.children[i+1:]...)
			break
		}
	}
	n.parent = nil
}

// pruneDummies performs step 4 on a sibling list, bottom up: dummies
// without children go; dummies with children are replaced by them, except
// that several children are not promoted into the root set.
func pruneDummies(nodes []*threadNode, root bool) []*threadNode {
	var out []*threadNode
	for _, n := range nodes {
		n.children = pruneDummies(n.children, false)
		switch {
		case n.msg != nil:
			out = append(out, n)
		case len(n.children) == 0:
			// dropped
		case !root || len(n.children) == 1:
			for _, c := range n.children {
				c.parent = n.parent
			}
			out = append(out, n.children...)
		default:
			out = append(out, n)
		}
	}
	return out
}

// groupBySubject performs step 6: root threads with the same base subject
// are merged, under a dummy or under the thread whose subject is not a
// reply. Roots with an empty base subject are left alone.
func groupBySubject(roots []*threadNode) []*threadNode {
	subject := func(n *threadNode) (string, bool) {
		if m := n.first(); m != nil {
			return m.subjKey, m.isReply
		}
		return "", false
	}
	table := make(map[string]*threadNode)
	for _, r := range roots { // 6B, 6C
		subj, reply := subject(r)
		if subj == "" {
			continue
		}
		old := table[subj]
		_, oldReply := subject(old)
		if old == nil || r.msg == nil && old.msg != nil || oldReply && !reply && old.msg != nil {
			table[subj] = r
		}
	}
	removed := make(map[*threadNode]bool)
	replaced := make(map[*threadNode]*threadNode)
	for _, r := range roots { // 6D, 6E
		subj, reply := subject(r)
		if subj == "" || removed[r] {
			continue
		}
		c := table[subj]
		if c == r {
			continue
		}
		_, cReply := subject(c)
		switch {
		case r.msg == nil && c.msg == nil:
			for _, kid := range r.children {
				link(c, kid)
			}
			r.children = nil
			removed[r] = true
		case c.msg == nil:
			link(c, r)
			removed[r] = true
		case r.msg == nil:
			link(r, c)
			removed[c] = true
			table[subj] = r
		case reply && !cReply:
			link(c, r)
			removed[r] = true
		case cReply && !reply:
			link(r, c)
			removed[c] = true
			table[subj] = r
		default:
			d := &threadNode{}
			replaced[c] = d
			link(d, c)
			link(d, r)
			removed[r] = true
			table[subj] = d
		}
	}
	var out []*threadNode
	for _, r := range roots {
		for replaced[r] != nil {
			r = replaced[r]
		}
		if !removed[r] {
			out = append(out, r)
		}
	}
	return out
}

// sortTree sorts every sibling list under nodes, children first so a
// dummy is ordered by its earliest child, then nodes themselves.
func sortTree(nodes []*threadNode) {
	for _, n := range nodes {
		sortTree(n.children)
	}
	sortNodes(nodes)
}

// messageRefs returns the message IDs of the References field, or when it
// has none, the first of In-Reply-To (RFC 5256 §3 step 1A).
func messageRefs(sm *sortMsg) []string {
	if v := sm.hdr.HeaderValues("References"); len(v) > 0 {
		if ids := msgIDs(v[0]); len(ids) > 0 {
			return ids
		}
	}
	if id := firstMsgID(sm.hdr.HeaderValues("In-Reply-To")); id != "" {
		return []string{id}
	}
	return nil
}

func firstMsgID(vals []string) string {
	if len(vals) == 0 {
		return ""
	}
	if ids := msgIDs(vals[0]); len(ids) > 0 {
		return ids[0]
	}
	return ""
}

// msgIDs extracts the valid msg-ids "<left@right>" of a field value
// (RFC 5322 §3.6.4), without the angle brackets; text between them, such
// as comments or phrases in old In-Reply-To fields, is ignored.
func msgIDs(v string) []string {
	var ids []string
	for {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			return ids
		}
		v = v[i+1:]
		j := strings.IndexAny(v, "<>")
		if j < 0 {
			return ids
		}
		if v[j] == '<' {
			continue // an unclosed bracket: start again at the next one
		}
		id := v[:j]
		v = v[j+1:]
		if at := strings.IndexByte(id, '@'); at > 0 && at < len(id)-1 && !strings.ContainsAny(id, " \t") {
			ids = append(ids, id)
		}
	}
}
