package imap

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestStressUntaggedOrdering drives four sessions of one user over three
// mailboxes with a seeded random mix of commands, one command at a time,
// and checks every untagged response against a per-session model of what
// the session was told (RFC 9051 §7, RFC 3501 §7, RFC 7162 §3.2.10):
// keywords are announced by FLAGS before a FETCH carries them, sequence
// numbers stay within the session's count, EXISTS never shrinks, EXPUNGE
// and VANISHED never come during FETCH, STORE or SEARCH, \Recent and
// RECENT only reach IMAP4rev1 sessions, UIDs ascend, and after a NOOP a
// FETCH of every message agrees with what the session was told.
//
// ROOKERY_STRESS_STEPS and ROOKERY_STRESS_SEED run it longer or with one
// chosen seed; a failure names its seed and prints the recent transcript.
func TestStressUntaggedOrdering(t *testing.T) {
	steps := 400
	if v := os.Getenv("ROOKERY_STRESS_STEPS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("ROOKERY_STRESS_STEPS: %v", err)
		}
		steps = n
	}
	seeds := []uint64{1, 2, 3}
	if v := os.Getenv("ROOKERY_STRESS_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("ROOKERY_STRESS_SEED: %v", err)
		}
		seeds = []uint64{n}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			runStress(t, seed, steps)
		})
	}
}

var stressMailboxes = []string{"INBOX", "Work", "Archive"}

// stressSession is one connection and the model of what it was told
// about its selected mailbox.
type stressSession struct {
	name           string
	c              *tconn
	rev2, qresync  bool
	condstore      bool // CONDSTORE or QRESYNC enabled
	selecting      bool
	uidValidity    uint64
	resync         map[string][2]uint64 // QRESYNC: mailbox → UIDVALIDITY, HIGHESTMODSEQ last seen
	selected       string               // "" when not selected
	readOnly       bool
	announced      map[string]bool
	uids           []uint32   // seq-1 → UID, 0 while unknown
	flags          [][]string // seq-1 → flags last told, nil while unknown
	tagN           int
	forbidExpunge  bool // the running command is FETCH, STORE or SEARCH
	fetching       bool // the running command is FETCH or UID FETCH
	searchBySeq    bool
	pendingUnknown bool
}

// stressRun holds the shared state of one seeded run.
type stressRun struct {
	t          testing.TB
	seed       uint64
	rng        *rand.Rand
	log        []string
	keywordSeq int
	sessions   []*stressSession
	idling     bool // one session is in IDLE
}

func (r *stressRun) logf(format string, args ...any) {
	r.log = append(r.log, fmt.Sprintf(format, args...))
	if len(r.log) > 400 {
		r.log = r.log[len(r.log)-400:]
	}
}

func (r *stressRun) fail(s *stressSession, format string, args ...any) {
	r.t.Helper()
	r.t.Fatalf("seed %d, session %s: %s\nrecent transcript:\n%s",
		r.seed, s.name, fmt.Sprintf(format, args...), strings.Join(r.log, "\n"))
}

func runStress(t *testing.T, seed uint64, steps int) {
	env := startServer(t)
	r := &stressRun{t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, 0x5eed))}
	modes := []struct {
		name   string
		enable string
	}{
		{"rev1", ""},
		{"rev2", "IMAP4rev2"},
		{"condstore", "CONDSTORE"},
		{"qresync", "QRESYNC IMAP4rev2"},
	}
	var sessions []*stressSession
	for _, m := range modes {
		c := dialRaw(t, env.addr)
		c.login("alice")
		s := &stressSession{name: m.name, c: c, resync: map[string][2]uint64{}}
		if m.enable != "" {
			r.command(s, "ENABLE "+m.enable)
			s.rev2 = strings.Contains(m.enable, "IMAP4rev2")
			s.qresync = strings.Contains(m.enable, "QRESYNC")
			s.condstore = strings.Contains(m.enable, "CONDSTORE") || s.qresync
		}
		sessions = append(sessions, s)
	}
	r.sessions = sessions
	for _, mb := range stressMailboxes[1:] {
		r.command(sessions[0], "CREATE "+mb)
	}
	for range steps {
		r.step(sessions[r.rng.IntN(len(sessions))])
	}
	for _, s := range sessions {
		if s.selected != "" {
			r.syncCheck(s)
		}
	}
}

func (r *stressRun) mailbox() string { return stressMailboxes[r.rng.IntN(len(stressMailboxes))] }

// flagList is a random flag list, sometimes with a keyword never used before.
func (r *stressRun) flagList() string {
	pool := []string{`\Seen`, `\Flagged`, `\Deleted`, `\Answered`, `$Label1`, `Todo`}
	var fl []string
	for range 1 + r.rng.IntN(2) {
		if r.rng.IntN(3) == 0 {
			r.keywordSeq++
			fl = append(fl, fmt.Sprintf("kw%d", r.keywordSeq))
		} else {
			fl = append(fl, pool[r.rng.IntN(len(pool))])
		}
	}
	return "(" + strings.Join(fl, " ") + ")"
}

// seqSet picks a valid sequence set for s, or "" when it has no messages.
func (r *stressRun) seqSet(s *stressSession) string {
	n := len(s.uids)
	if n == 0 {
		return ""
	}
	a := 1 + r.rng.IntN(n)
	if r.rng.IntN(2) == 0 {
		return strconv.Itoa(a)
	}
	return fmt.Sprintf("%d:%d", a, 1+r.rng.IntN(n))
}

// uidSet picks UIDs the session knows, or a wide range.
func (r *stressRun) uidSet(s *stressSession) string {
	var known []uint32
	for _, u := range s.uids {
		if u != 0 {
			known = append(known, u)
		}
	}
	if len(known) == 0 || r.rng.IntN(4) == 0 {
		return "1:*"
	}
	return strconv.FormatUint(uint64(known[r.rng.IntN(len(known))]), 10)
}

func (r *stressRun) step(s *stressSession) {
	if s.selected == "" || r.rng.IntN(25) == 0 {
		verb := "SELECT"
		if r.rng.IntN(4) == 0 {
			verb = "EXAMINE"
		}
		mb := r.mailbox()
		if q, ok := s.resync[mb]; ok && r.rng.IntN(2) == 0 {
			// RFC 7162 §3.2.5: FETCHes of changed messages and VANISHED
			// (EARLIER) come with the SELECT, after FLAGS.
			mb += fmt.Sprintf(" (QRESYNC (%d %d))", q[0], q[1])
		}
		r.command(s, verb+" "+mb)
		return
	}
	switch k := r.rng.IntN(16); {
	case k < 2:
		msg := fmt.Sprintf("Subject: stress %d\r\n\r\nbody\r\n", len(r.log))
		mb := r.mailbox()
		if r.rng.IntN(2) == 0 {
			mb = s.selected
		}
		r.command(s, fmt.Sprintf("APPEND %s %s {%d+}\r\n%s", mb, r.flagList(), len(msg), msg))
	case k < 5:
		set := r.seqSet(s)
		if set == "" {
			r.command(s, "NOOP")
			return
		}
		op := []string{"+FLAGS", "-FLAGS", "FLAGS"}[r.rng.IntN(3)]
		switch r.rng.IntN(4) {
		case 0:
			r.silentStore(s, set, op)
		case 1:
			mod := ""
			if s.condstore {
				mod = fmt.Sprintf(" (UNCHANGEDSINCE %d)", 1+r.rng.IntN(200))
			}
			r.command(s, fmt.Sprintf("STORE %s%s %s %s", set, mod, op, r.flagList()))
		default:
			r.command(s, fmt.Sprintf("UID STORE %s %s %s", r.uidSet(s), op, r.flagList()))
		}
	case k < 6:
		if r.rng.IntN(2) == 0 {
			r.command(s, "EXPUNGE")
		} else {
			r.command(s, "UID EXPUNGE "+r.uidSet(s))
		}
	case k < 8:
		verb := []string{"COPY", "MOVE", "UID COPY", "UID MOVE"}[r.rng.IntN(4)]
		set := r.seqSet(s)
		if strings.HasPrefix(verb, "UID") {
			set = r.uidSet(s)
		}
		if set == "" {
			r.command(s, "NOOP")
			return
		}
		r.command(s, fmt.Sprintf("%s %s %s", verb, set, r.mailbox()))
	case k < 10:
		if set := r.seqSet(s); set != "" && r.rng.IntN(4) == 0 {
			// Sets \Seen unless read-only; the new flags come with it.
			r.command(s, "FETCH "+set+" BODY[HEADER.FIELDS (SUBJECT)]")
		} else if set != "" && s.condstore && r.rng.IntN(3) == 0 {
			r.command(s, fmt.Sprintf("FETCH %s (UID FLAGS) (CHANGEDSINCE %d)", set, 1+r.rng.IntN(200)))
		} else if set != "" {
			r.command(s, "FETCH "+set+" (UID FLAGS)")
		} else {
			r.command(s, "UID FETCH 1:* FLAGS")
		}
	case k < 11:
		r.command(s, "NOOP")
	case k < 12:
		q := []string{"ALL", "UNSEEN", "DELETED", "KEYWORD Todo"}[r.rng.IntN(4)]
		if r.rng.IntN(2) == 0 {
			r.command(s, "SEARCH "+q)
		} else {
			r.command(s, "UID SEARCH "+q)
		}
	case k < 13:
		r.command(s, "STATUS "+r.mailbox()+" (MESSAGES UIDNEXT UNSEEN)")
	case k < 14 && !r.idling:
		r.idle(s)
	default:
		r.syncCheck(s)
	}
}

// silentStore runs STORE .SILENT on sequence numbers and updates the
// model as the client would: the flags it asked for, on the messages it
// named, unless a FETCH tells otherwise (RFC 9051 §6.4.6).
func (r *stressRun) silentStore(s *stressSession, set, op string) {
	fl := r.flagList()
	want := strings.Fields(strings.Trim(fl, "()"))
	parsed, err := parseSeqSet(set)
	if err != nil {
		r.fail(s, "bad set %s: %v", set, err)
	}
	nums, _ := parsed.seqNums(uint32(len(s.uids)))
	// EXPUNGE may not come during STORE, so numbers hold still.
	after := make(map[int][]string) // seq → flags it should have
	for _, n := range nums {
		cur := s.flags[n-1]
		if cur == nil || s.readOnly {
			continue
		}
		var next []string
		switch op {
		case "+FLAGS":
			next = append(slices.Clone(cur), want...)
		case "-FLAGS":
			next = slices.DeleteFunc(slices.Clone(cur), func(f string) bool { return slices.Contains(want, f) })
		default:
			next = slices.DeleteFunc(slices.Clone(cur), func(f string) bool { return f != `\Recent` })
			next = append(next, want...)
		}
		slices.Sort(next)
		after[int(n)] = slices.Compact(next)
	}
	lines := r.command(s, fmt.Sprintf("STORE %s %s.SILENT %s", set, op, fl))
	if !strings.HasPrefix(lines[len(lines)-1], fmt.Sprintf("%s%d OK", s.name, s.tagN)) {
		return
	}
	for n, next := range after {
		if !r.fetchedDuring(lines, n) {
			s.flags[n-1] = next
		}
	}
}

// fetchedDuring reports whether lines hold a FETCH with FLAGS for message
// n (numbers as they stood at the end of the command).
func (r *stressRun) fetchedDuring(lines []string, n int) bool {
	for _, l := range lines {
		if m := fetchRE.FindStringSubmatch(l); m != nil && m[1] == strconv.Itoa(n) && strings.Contains(m[2], "FLAGS (") {
			return true
		}
	}
	return false
}

// syncCheck: after a NOOP, a FETCH of every message must agree with
// everything the session was told, and cover exactly its count.
func (r *stressRun) syncCheck(s *stressSession) {
	r.command(s, "NOOP")
	if len(s.uids) == 0 {
		return
	}
	wantUIDs := slices.Clone(s.uids)
	wantFlags := slices.Clone(s.flags)
	lines := r.command(s, "FETCH 1:* (UID FLAGS)")
	seen := 0
	for _, l := range lines {
		m := fetchRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		seen++
		n, _ := strconv.Atoi(m[1])
		uid, fl, _ := stressFetchItems(m[2])
		if n > len(wantUIDs) {
			continue // reported by the response handler
		}
		if wantUIDs[n-1] != 0 && wantUIDs[n-1] != uid {
			r.fail(s, "message %d: told UID %d, FETCH says %d", n, wantUIDs[n-1], uid)
		}
		if wantFlags[n-1] != nil && !slices.Equal(wantFlags[n-1], fl) {
			r.fail(s, "message %d (UID %d): told flags %v, FETCH after NOOP says %v", n, uid, wantFlags[n-1], fl)
		}
	}
	if seen != len(wantUIDs) {
		r.fail(s, "FETCH 1:* returned %d messages, session was told %d exist", seen, len(wantUIDs))
	}
}

// idle enters IDLE and leaves it at once; pending changes may arrive.
func (r *stressRun) idle(s *stressSession) {
	s.tagN++
	tag := fmt.Sprintf("%s%d", s.name, s.tagN)
	r.logf("C(%s) %s IDLE", s.name, tag)
	s.c.send(tag + " IDLE\r\n")
	for {
		l := s.c.readLine()
		r.logf("S(%s) %s", s.name, l)
		if strings.HasPrefix(l, "+ ") {
			break
		}
		r.untagged(s, l)
	}
	// Another session's command: its changes reach the idler as pushes,
	// read (and checked) below together with the reply to DONE.
	if o := r.sessions[r.rng.IntN(len(r.sessions))]; o != s {
		r.idling = true // o must not IDLE too, or pick s
		r.step(o)
		r.idling = false
	}
	s.c.send("DONE\r\n")
	r.finish(s, tag, "IDLE")
}

// command sends one command and checks every response to it.
func (r *stressRun) command(s *stressSession, cmd string) []string {
	r.t.Helper()
	s.tagN++
	tag := fmt.Sprintf("%s%d", s.name, s.tagN)
	r.logf("C(%s) %s %s", s.name, tag, strings.SplitN(cmd, "\r\n", 2)[0])
	verb := strings.ToUpper(strings.Fields(cmd)[0])
	if verb == "UID" {
		verb += " " + strings.ToUpper(strings.Fields(cmd)[1])
	}
	switch verb {
	case "SELECT", "EXAMINE":
		s.selected, s.uids, s.flags, s.announced = "", nil, nil, map[string]bool{}
		s.readOnly = verb == "EXAMINE"
	}
	// RFC 9051 §7.5.1 / RFC 3501 §7.4.1; VANISHED follows the same rule
	// (RFC 7162 §3.2.10).
	s.forbidExpunge = verb == "FETCH" || verb == "STORE" || verb == "SEARCH"
	s.searchBySeq = verb == "SEARCH"
	s.fetching = verb == "FETCH" || verb == "UID FETCH"
	s.selecting = verb == "SELECT" || verb == "EXAMINE"
	s.c.send(tag + " " + cmd + "\r\n")
	lines := r.finish(s, tag, verb)
	s.selecting = false
	if (verb == "SELECT" || verb == "EXAMINE") && strings.HasPrefix(lines[len(lines)-1], tag+" OK") {
		s.selected = strings.Fields(cmd)[1]
	}
	if s.qresync && s.selected != "" {
		for _, l := range lines {
			if m := highestRE.FindStringSubmatch(l); m != nil {
				hm, _ := strconv.ParseUint(m[1], 10, 64)
				s.resync[s.selected] = [2]uint64{s.uidValidity, hm}
			}
		}
	}
	return lines
}

// finish reads up to the tagged reply, checking untagged responses.
func (r *stressRun) finish(s *stressSession, tag, verb string) []string {
	var lines []string
	for {
		l := readResponse(s.c)
		r.logf("S(%s) %s", s.name, l)
		lines = append(lines, l)
		if strings.HasPrefix(l, tag+" ") {
			rest := strings.TrimPrefix(l, tag+" ")
			if strings.HasPrefix(rest, "BAD") {
				r.fail(s, "%s answered BAD: %s", verb, l)
			}
			s.forbidExpunge, s.searchBySeq, s.fetching = false, false, false
			return lines
		}
		r.untagged(s, l)
	}
}

var literalRE = regexp.MustCompile(`\{(\d+)\}$`)

// readResponse reads one response, replacing any literals in it by "<n>".
func readResponse(c *tconn) string {
	c.t.Helper()
	l := c.readLine()
	for {
		m := literalRE.FindStringSubmatchIndex(l)
		if m == nil {
			return l
		}
		n, _ := strconv.Atoi(l[m[2]:m[3]])
		if _, err := io.ReadFull(c.br, make([]byte, n)); err != nil {
			c.t.Fatalf("read literal: %v", err)
		}
		l = l[:m[0]] + "<" + strconv.Itoa(n) + ">" + c.readLine()
	}
}

var (
	fetchRE       = regexp.MustCompile(`^\* (\d+) FETCH \((.*)\)$`)
	numRespRE     = regexp.MustCompile(`^\* (\d+) (EXISTS|RECENT|EXPUNGE)$`)
	flagsRE       = regexp.MustCompile(`^\* FLAGS \((.*)\)$`)
	vanishedRE    = regexp.MustCompile(`^\* VANISHED (\(EARLIER\) )?(\S+)$`)
	esearchRE     = regexp.MustCompile(`^\* ESEARCH \(TAG "[^"]*"\)( UID)? ALL (\S+)$`)
	permFlagsRE   = regexp.MustCompile(`^\* OK \[PERMANENTFLAGS \(([^)]*)\)\]`)
	highestRE     = regexp.MustCompile(`\[HIGHESTMODSEQ (\d+)\]`)
	uidValidityRE = regexp.MustCompile(`^\* OK \[UIDVALIDITY (\d+)\]`)
	uidItemRE     = regexp.MustCompile(`(?:^| )UID (\d+)`)
	flagItemRE    = regexp.MustCompile(`(?:^| )FLAGS \(([^)]*)\)`)
)

// stressFetchItems returns the UID (0 if absent) and flags (nil if absent)
// of a FETCH response's item list.
func stressFetchItems(items string) (uint32, []string, bool) {
	var uid uint32
	if m := uidItemRE.FindStringSubmatch(items); m != nil {
		u, _ := strconv.ParseUint(m[1], 10, 32)
		uid = uint32(u)
	}
	m := flagItemRE.FindStringSubmatch(items)
	if m == nil {
		return uid, nil, false
	}
	fl := strings.Fields(m[1])
	slices.Sort(fl)
	if fl == nil {
		fl = []string{}
	}
	return uid, fl, true
}

// untagged checks one untagged response against the model and applies it.
func (r *stressRun) untagged(s *stressSession, l string) {
	r.t.Helper()
	inMailbox := s.announced != nil // SELECT/EXAMINE issued and not failed
	if m := flagsRE.FindStringSubmatch(l); m != nil {
		if !inMailbox {
			r.fail(s, "FLAGS with no mailbox selected")
		}
		clear(s.announced)
		for _, f := range strings.Fields(m[1]) {
			s.announced[f] = true
		}
		return
	}
	if m := numRespRE.FindStringSubmatch(l); m != nil {
		if !inMailbox {
			r.fail(s, "%q with no mailbox selected", l)
		}
		n, _ := strconv.Atoi(m[1])
		switch m[2] {
		case "EXISTS":
			if n < len(s.uids) {
				r.fail(s, "EXISTS shrank from %d to %d without EXPUNGE", len(s.uids), n)
			}
			for len(s.uids) < n {
				s.uids = append(s.uids, 0)
				s.flags = append(s.flags, nil)
			}
		case "RECENT":
			if s.rev2 {
				r.fail(s, "RECENT sent to an IMAP4rev2 session")
			}
		case "EXPUNGE":
			if s.qresync {
				r.fail(s, "EXPUNGE sent after ENABLE QRESYNC (RFC 7162 §3.2.10)")
			}
			if s.forbidExpunge {
				r.fail(s, "EXPUNGE during FETCH/STORE/SEARCH")
			}
			if n < 1 || n > len(s.uids) {
				r.fail(s, "EXPUNGE %d outside 1..%d", n, len(s.uids))
			}
			s.uids = slices.Delete(s.uids, n-1, n)
			s.flags = slices.Delete(s.flags, n-1, n)
		}
		return
	}
	if m := vanishedRE.FindStringSubmatch(l); m != nil {
		if !s.qresync || m[1] != "" && !s.selecting {
			r.fail(s, "unexpected %q", l)
		}
		if m[1] != "" {
			return // about the client's cache, not this session's view
		}
		if s.forbidExpunge {
			r.fail(s, "VANISHED during FETCH/STORE/SEARCH")
		}
		set, err := parseSeqSet(m[2])
		if err != nil {
			r.fail(s, "bad VANISHED set: %v", err)
		}
		r.vanish(s, set)
		return
	}
	if m := fetchRE.FindStringSubmatch(l); m != nil {
		n, _ := strconv.Atoi(m[1])
		if !inMailbox || n < 1 || n > len(s.uids) {
			r.fail(s, "FETCH %d outside 1..%d", n, len(s.uids))
		}
		uid, fl, hasFlags := stressFetchItems(m[2])
		// RFC 7162 §3.2.4 (CONDSTORE) and §3.2.10 (QRESYNC): FETCH
		// responses the client did not ask for carry MODSEQ, and UID
		// too once QRESYNC is enabled.
		if !s.fetching && s.condstore && !strings.Contains(m[2], "MODSEQ (") {
			r.fail(s, "FETCH without MODSEQ after ENABLE CONDSTORE")
		}
		if !s.fetching && s.qresync && uid == 0 {
			r.fail(s, "FETCH without UID after ENABLE QRESYNC")
		}
		if uid != 0 {
			r.placeUID(s, n, uid)
		}
		if hasFlags {
			for _, f := range fl {
				if f == `\Recent` && s.rev2 {
					r.fail(s, `\Recent sent to an IMAP4rev2 session`)
				}
				if !strings.HasPrefix(f, `\`) && !s.announced[f] {
					r.fail(s, "keyword %s in FETCH before any FLAGS announced it", f)
				}
			}
			s.flags[n-1] = fl
		}
		return
	}
	if strings.HasPrefix(l, "* SEARCH") {
		for _, f := range strings.Fields(l)[2:] {
			n, err := strconv.Atoi(f)
			if err != nil {
				r.fail(s, "bad SEARCH result %q", f)
			}
			if s.searchBySeq && (n < 1 || n > len(s.uids)) {
				r.fail(s, "SEARCH result %d outside 1..%d", n, len(s.uids))
			}
		}
		return
	}
	if m := esearchRE.FindStringSubmatch(l); m != nil {
		if m[1] == "" && s.searchBySeq {
			set, err := parseSeqSet(m[2])
			if err != nil {
				r.fail(s, "bad ESEARCH set: %v", err)
			}
			if _, ok := set.seqNums(uint32(len(s.uids))); !ok {
				r.fail(s, "ESEARCH result %s outside 1..%d", m[2], len(s.uids))
			}
		}
		return
	}
	if m := uidValidityRE.FindStringSubmatch(l); m != nil {
		s.uidValidity, _ = strconv.ParseUint(m[1], 10, 64)
		return
	}
	if m := permFlagsRE.FindStringSubmatch(l); m != nil {
		perm := strings.Fields(m[1])
		if !s.readOnly && !slices.Contains(perm, `\*`) {
			r.fail(s, `PERMANENTFLAGS without \* in a read-write mailbox`)
		}
		for _, f := range perm {
			if f != `\*` && !s.announced[f] {
				r.fail(s, "PERMANENTFLAGS lists %s, which FLAGS did not", f)
			}
		}
		if !s.readOnly {
			for f := range s.announced {
				if !slices.Contains(perm, f) {
					r.fail(s, "FLAGS lists %s, PERMANENTFLAGS does not", f)
				}
			}
		}
		return
	}
	for _, p := range []string{"* ESEARCH ", "* OK ", "* NO ", "* STATUS ", "* ENABLED", "* CAPABILITY ", "* LIST "} {
		if strings.HasPrefix(l, p) {
			return
		}
	}
	r.fail(s, "unexpected untagged response %q", l)
}

// placeUID records that message n has uid, checking it against what the
// session knows and that UIDs ascend with sequence numbers.
func (r *stressRun) placeUID(s *stressSession, n int, uid uint32) {
	if old := s.uids[n-1]; old != 0 && old != uid {
		r.fail(s, "message %d was UID %d, now FETCH says UID %d", n, old, uid)
	}
	for i := n - 2; i >= 0; i-- {
		if s.uids[i] != 0 {
			if s.uids[i] >= uid {
				r.fail(s, "UID %d at %d not above UID %d at %d", uid, n, s.uids[i], i+1)
			}
			break
		}
	}
	for i := n; i < len(s.uids); i++ {
		if s.uids[i] != 0 {
			if s.uids[i] <= uid {
				r.fail(s, "UID %d at %d not below UID %d at %d", uid, n, s.uids[i], i+1)
			}
			break
		}
	}
	s.uids[n-1] = uid
}

// vanish removes the UIDs of a VANISHED response from the model; a UID
// the session has not learnt must fit an unknown slot between its known
// neighbours, since VANISHED stands for EXPUNGE of messages the session
// was told exist (RFC 7162 §3.2.10).
func (r *stressRun) vanish(s *stressSession, set seqSet) {
	for _, rg := range set.ranges {
		for u := rg.lo; u <= rg.hi && u != 0; u++ {
			if i := slices.Index(s.uids, u); i >= 0 {
				s.uids = slices.Delete(s.uids, i, i+1)
				s.flags = slices.Delete(s.flags, i, i+1)
				continue
			}
			if i := unknownSlotFor(s.uids, u); i >= 0 {
				s.uids = slices.Delete(s.uids, i, i+1)
				s.flags = slices.Delete(s.flags, i, i+1)
				continue
			}
			r.fail(s, "VANISHED UID %d is no message the session was told of", u)
		}
	}
}

// unknownSlotFor returns a position with an unknown UID between known
// neighbours below and above u, or -1.
func unknownSlotFor(uids []uint32, u uint32) int {
	slot := -1
	for i, v := range uids {
		switch {
		case v == 0:
			if slot < 0 {
				slot = i
			}
		case v > u:
			return slot
		default:
			slot = -1
		}
	}
	return slot
}
