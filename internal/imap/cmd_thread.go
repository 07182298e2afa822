package imap

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// threadFeature: THREAD and UID THREAD (RFC 5256 §4) with the
// ORDEREDSUBJECT and REFERENCES algorithms (RFC 5256 §3).
var threadFeature = feature{
	caps: func(s *session) []string { return []string{"THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES"} },
	commands: map[string]commandSpec{
		"THREAD":     {states: stateSelected, handle: handleThread, noExpunge: true},
		"UID THREAD": {states: stateSelected, handle: handleThread},
	},
}

// threadNode is a node of a thread tree; msg is nil for a dummy that
// stands for a message referenced but not present (or, after subject
// grouping, for a subject shared by several threads).
type threadNode struct {
	msg      *sortMsg
	parent   *threadNode
	children []*threadNode
}

// first returns the message that represents n for dates and subjects: its
// own, or a dummy's first child's (RFC 5256 §3 REFERENCES steps 5 and 6).
func (n *threadNode) first() *sortMsg {
	for n != nil && n.msg == nil {
		if len(n.children) == 0 {
			return nil
		}
		n = n.children[0]
	}
	if n == nil {
		return nil
	}
	return n.msg
}

func handleThread(s *session, c *command) error {
	p := c.p
	if err := p.sp(); err != nil {
		return err
	}
	alg, err := p.atom()
	if err != nil {
		return err
	}
	alg = upperASCII(alg)
	if alg != "ORDEREDSUBJECT" && alg != "REFERENCES" {
		return errSyntax("unknown threading algorithm %q", alg)
	}
	if err := parseSortCharset(p); err != nil {
		return err
	}
	prog, err := parseSortSearch(p)
	if err != nil {
		return err
	}
	msgs, err := s.matchForSort(prog, true, true)
	if err != nil {
		return err
	}
	var roots []*threadNode
	if alg == "ORDEREDSUBJECT" {
		roots = threadOrderedSubject(msgs)
	} else {
		roots = threadReferences(msgs)
	}
	var b strings.Builder
	b.WriteString("* THREAD") // thread-data = "THREAD" [SP 1*thread-list]
	if len(roots) > 0 {
		b.WriteByte(' ')
	}
	for _, r := range roots {
		b.WriteByte('(')
		writeThread(&b, r, c.uid)
		b.WriteByte(')')
	}
	b.WriteString("\r\n")
	return s.write([]byte(b.String()))
}

// threadOrderedSubject groups msgs by base subject, each group ordered by
// sent date with its first message the parent of the others, and orders
// the threads by the sent date of their first message (RFC 5256 §3
// ORDEREDSUBJECT). Ties go by sequence number.
func threadOrderedSubject(msgs []*sortMsg) []*threadNode {
	sorted := slices.Clone(msgs)
	slices.SortStableFunc(sorted, func(a, b *sortMsg) int {
		return cmp.Or(strings.Compare(a.subjKey, b.subjKey), compareSent(a, b))
	})
	var roots []*threadNode
	var cur *threadNode
	for _, sm := range sorted {
		if cur != nil && cur.msg.subjKey == sm.subjKey {
			cur.children = append(cur.children, &threadNode{msg: sm, parent: cur})
			continue
		}
		cur = &threadNode{msg: sm}
		roots = append(roots, cur)
	}
	sortNodes(roots)
	return roots
}

// compareSent orders by sent date, then sequence number.
func compareSent(a, b *sortMsg) int {
	return cmp.Or(a.sent.Compare(b.sent), cmp.Compare(a.seq, b.seq))
}

// sortNodes orders siblings by the sent date of the message representing
// each (RFC 5256 §3 REFERENCES steps 5 and 7).
func sortNodes(nodes []*threadNode) {
	slices.SortStableFunc(nodes, func(a, b *threadNode) int {
		x, y := a.first(), b.first()
		if x == nil || y == nil {
			return 0 // a childless dummy; pruning leaves none
		}
		return compareSent(x, y)
	})
}

// writeThread writes the contents of one thread-list without its outer
// parentheses (RFC 5256 §4): a chain of single children continues the
// list ("1 2 3"), several children each get a nested list ("1 (2)(3)"),
// and a dummy contributes only its children.
func writeThread(b *strings.Builder, n *threadNode, uid bool) {
	for {
		if n.msg == nil && len(n.children) == 1 {
			n = n.children[0] // a lone child needs no nesting
			continue
		}
		if n.msg != nil {
			b.WriteString(strconv.FormatUint(uint64(n.msg.num(uid)), 10))
			if len(n.children) == 1 {
				b.WriteByte(' ')
				n = n.children[0]
				continue
			}
			if len(n.children) > 1 {
				b.WriteByte(' ')
			}
		}
		for _, kid := range n.children {
			b.WriteByte('(')
			writeThread(b, kid, uid)
			b.WriteByte(')')
		}
		return
	}
}
