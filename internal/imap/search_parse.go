package imap

import (
	"strings"
	"time"
)

// searchKey is one node of a SEARCH program (RFC 3501 §6.4.4).
type searchKey struct {
	op    searchOp
	flag  string    // opFlag, opNotFlag
	set   seqSet    // opSeq, opUID
	n     int64     // opLarger, opSmaller
	date  time.Time // date ops: a calendar day, UTC midnight
	field string    // opHeader: header name
	addr  bool      // opHeader of FROM, TO, CC, BCC: match addresses too (imapmsg.HasAddress)
	value string    // opHeader, opBody, opText
	kids  []*searchKey
	// indexed says the full-text index answered this opBody/opText key
	// with hits, the matching UIDs ascending; the key then reads no blob.
	indexed bool
	hits    []uint32
}

type searchOp int

const (
	opAll searchOp = iota
	opAnd
	opOr
	opNot
	opSeq
	opUID
	opFlag
	opNotFlag
	opLarger
	opSmaller
	opBefore
	opOn
	opSince
	opSentBefore
	opSentOn
	opSentSince
	opHeader
	opBody
	opText
	opModSeq      // MODSEQ n: n is the lowest matching MODSEQ (RFC 7162 §3.1.5)
	opSavedBefore // RFC 8514, savedate.go
	opSavedOn
	opSavedSince
	opEmailID // RFC 8474, objectid.go
	opThreadID
	opRecent // \Recent to this session (recent.go)
)

// needsBlob reports whether evaluating k reads message content.
func (k *searchKey) needsBlob() bool {
	switch k.op {
	case opBody, opText:
		if !k.indexed {
			return true
		}
	case opHeader, opSentBefore, opSentOn, opSentSince:
		return true
	}
	for _, c := range k.kids {
		if c.needsBlob() {
			return true
		}
	}
	return false
}

// searchProgram is a parsed SEARCH command.
type searchProgram struct {
	key *searchKey
	// ret holds the RETURN options (RFC 4731), uppercased; hasReturn says
	// RETURN was given (an empty list means ALL).
	ret       []string
	hasReturn bool
	partial   *partialRange // RETURN (PARTIAL range), RFC 9394
}

// parseSearch reads "[RETURN (opts) SP] [CHARSET x SP] key *(SP key)" to
// the end of the command.
func parseSearch(p *parser) (*searchProgram, error) {
	if err := p.sp(); err != nil {
		return nil, err
	}
	prog := &searchProgram{}
	save := p.i
	if w, _ := p.atom(); strings.EqualFold(w, "RETURN") {
		prog.hasReturn = true
		if err := p.sp(); err != nil {
			return nil, err
		}
		var err error
		if prog.ret, prog.partial, err = parseReturnList(p); err != nil { // partial.go
			return nil, err
		}
		if err := p.sp(); err != nil {
			return nil, err
		}
	} else {
		p.i = save
	}
	save = p.i
	if w, _ := p.atom(); strings.EqualFold(w, "CHARSET") {
		if err := p.sp(); err != nil {
			return nil, err
		}
		cs, err := p.astring()
		if err != nil {
			return nil, err
		}
		switch strings.ToUpper(cs) {
		case "UTF-8", "US-ASCII":
		default:
			return nil, errNo("BADCHARSET (UTF-8 US-ASCII)", "Unsupported charset")
		}
		if err := p.sp(); err != nil {
			return nil, err
		}
	} else {
		p.i = save
	}
	root := &searchKey{op: opAnd}
	for {
		k, err := parseSearchKey(p, 0)
		if err != nil {
			return nil, err
		}
		root.kids = append(root.kids, k)
		if p.atEnd() {
			prog.key = root
			return prog, nil
		}
		if err := p.sp(); err != nil {
			return nil, err
		}
	}
}

const maxSearchDepth = 50

var flagKeys = map[string]struct {
	flag string
	not  bool
}{
	"ANSWERED": {`\Answered`, false}, "UNANSWERED": {`\Answered`, true},
	"DELETED": {`\Deleted`, false}, "UNDELETED": {`\Deleted`, true},
	"DRAFT": {`\Draft`, false}, "UNDRAFT": {`\Draft`, true},
	"FLAGGED": {`\Flagged`, false}, "UNFLAGGED": {`\Flagged`, true},
	"SEEN": {`\Seen`, false}, "UNSEEN": {`\Seen`, true},
}

var headerKeys = map[string]string{"FROM": "From", "TO": "To", "CC": "Cc", "BCC": "Bcc", "SUBJECT": "Subject"}

var dateKeys = map[string]searchOp{
	"BEFORE": opBefore, "ON": opOn, "SINCE": opSince,
	"SENTBEFORE": opSentBefore, "SENTON": opSentOn, "SENTSINCE": opSentSince,
	"SAVEDBEFORE": opSavedBefore, "SAVEDON": opSavedOn, "SAVEDSINCE": opSavedSince,
}

func parseSearchKey(p *parser, depth int) (*searchKey, error) {
	if depth > maxSearchDepth {
		return nil, errSyntax("search program nested too deeply")
	}
	if p.peek() == '(' {
		k := &searchKey{op: opAnd}
		err := p.list(func() error {
			kid, err := parseSearchKey(p, depth+1)
			k.kids = append(k.kids, kid)
			return err
		})
		if err == nil && len(k.kids) == 0 {
			err = errSyntax("empty search group")
		}
		return k, err
	}
	if c := p.peek(); isDigit(c) || c == '*' || c == '$' {
		set, err := p.seqSet()
		return &searchKey{op: opSeq, set: set}, err
	}
	word, err := p.atom()
	if err != nil {
		return nil, err
	}
	name := strings.ToUpper(word)
	if f, ok := flagKeys[name]; ok {
		if f.not {
			return &searchKey{op: opNotFlag, flag: f.flag}, nil
		}
		return &searchKey{op: opFlag, flag: f.flag}, nil
	}
	switch name {
	case "ALL":
		return &searchKey{op: opAll}, nil
	// RFC 3501 §6.4.4: NEW is RECENT UNSEEN, OLD is NOT RECENT.
	case "RECENT":
		return &searchKey{op: opRecent}, nil
	case "NEW":
		return &searchKey{op: opAnd, kids: []*searchKey{{op: opRecent}, {op: opNotFlag, flag: `\Seen`}}}, nil
	case "OLD":
		return &searchKey{op: opNot, kids: []*searchKey{{op: opRecent}}}, nil
	case "SAVEDATESUPPORTED":
		return &searchKey{op: opAll}, nil // every mailbox has save dates (savedate.go)
	}
	if err := p.sp(); err != nil {
		return nil, err
	}
	if field, ok := headerKeys[name]; ok {
		v, err := p.astring()
		return &searchKey{op: opHeader, field: field, value: v, addr: name != "SUBJECT"}, err
	}
	if op, ok := dateKeys[name]; ok {
		d, err := parseSearchDate(p)
		return &searchKey{op: op, date: d}, err
	}
	switch name {
	case "NOT":
		kid, err := parseSearchKey(p, depth+1)
		return &searchKey{op: opNot, kids: []*searchKey{kid}}, err
	case "OR":
		a, err := parseSearchKey(p, depth+1)
		if err != nil {
			return nil, err
		}
		if err := p.sp(); err != nil {
			return nil, err
		}
		b, err := parseSearchKey(p, depth+1)
		return &searchKey{op: opOr, kids: []*searchKey{a, b}}, err
	case "UID":
		set, err := p.seqSet()
		return &searchKey{op: opUID, set: set}, err
	case "KEYWORD", "UNKEYWORD":
		f, err := p.flag()
		op := opFlag
		if name == "UNKEYWORD" {
			op = opNotFlag
		}
		return &searchKey{op: op, flag: f}, err
	case "LARGER", "SMALLER":
		n, err := p.number64()
		op := opLarger
		if name == "SMALLER" {
			op = opSmaller
		}
		return &searchKey{op: op, n: int64(n)}, err
	case "HEADER":
		field, err := p.astring()
		if err != nil {
			return nil, err
		}
		if err := p.sp(); err != nil {
			return nil, err
		}
		v, err := p.astring()
		return &searchKey{op: opHeader, field: field, value: v}, err
	case "EMAILID", "THREADID":
		return parseObjectIDKey(p, name)
	case "MODSEQ":
		n, err := parseModSeqKey(p)
		return &searchKey{op: opModSeq, n: int64(n)}, err
	case "BODY", "TEXT":
		v, err := p.astring()
		op := opBody
		if name == "TEXT" {
			op = opText
		}
		return &searchKey{op: op, value: v}, err
	}
	return nil, errSyntax("unknown search key %q", word)
}

// parseSearchDate reads date = date-text / DQUOTE date-text DQUOTE.
func parseSearchDate(p *parser) (time.Time, error) {
	var s string
	var err error
	if p.peek() == '"' {
		s, err = p.quoted()
	} else {
		s, err = p.atom()
	}
	if err != nil {
		return time.Time{}, err
	}
	d, err := time.Parse("2-Jan-2006", s)
	if err != nil {
		return time.Time{}, errSyntax("invalid date %q", s)
	}
	return d, nil
}
