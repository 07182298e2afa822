package imap

import "strings"

// baseSubject extracts the base subject of a decoded Subject value
// (RFC 5256 §2.1), so that "Re: [list] Fwd: Hello (fwd)" sorts and threads
// with "Hello". isReply reports whether anything marking a reply or
// forward was removed (steps 2, 3 and 6), which REFERENCES threading needs
// (RFC 5256 §3 step 6C). The caller has already decoded RFC 2047 words.
func baseSubject(subject string) (base string, isReply bool) {
	// Step 1: tabs and line breaks become spaces, runs of spaces one space.
	s := strings.Join(strings.FieldsFunc(subject, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\r' || r == '\n'
	}), " ")
	for {
		// Step 2: remove subj-trailer = "(fwd)" / WSP, repeatedly.
		for {
			s = strings.TrimRight(s, " ")
			if len(s) >= 5 && strings.EqualFold(s[len(s)-5:], "(fwd)") {
				s = s[:len(s)-5]
				isReply = true
				continue
			}
			break
		}
		// Steps 3–5: remove subj-leader and subj-blob prefixes until none match.
		for {
			if n, refwd := subjLeader(s); n > 0 {
				s = s[n:]
				isReply = isReply || refwd
				continue
			}
			// Step 4: a leading blob goes only if something remains.
			if n := subjBlob(s, 0); n > 0 && n < len(s) {
				s = s[n:]
				continue
			}
			break
		}
		// Step 6: "[fwd: ...]" wraps a forwarded subject; unwrap and redo.
		if len(s) >= 6 && strings.EqualFold(s[:5], "[fwd:") && s[len(s)-1] == ']' {
			s = s[5 : len(s)-1]
			isReply = true
			continue
		}
		return s, isReply
	}
}

// subjLeader matches subj-leader = (*subj-blob subj-refwd) / WSP at the
// start of s and returns its length and whether it was a subj-refwd.
func subjLeader(s string) (n int, refwd bool) {
	if s != "" && s[0] == ' ' {
		return 1, false
	}
	i := 0
	for {
		m := subjBlob(s, i)
		if m == 0 {
			break
		}
		i += m
	}
	// subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
	rest := strings.ToLower(s[i:])
	switch {
	case strings.HasPrefix(rest, "re"):
		i += 2
	case strings.HasPrefix(rest, "fwd"):
		i += 3
	case strings.HasPrefix(rest, "fw"):
		i += 2
	default:
		return 0, false
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	i += subjBlob(s, i)
	if i < len(s) && s[i] == ':' {
		return i + 1, true
	}
	return 0, false
}

// subjBlob matches subj-blob = "[" *BLOBCHAR "]" *WSP at s[i:] and returns
// its length, 0 if there is none. BLOBCHAR is any CHAR except "[" and "]".
func subjBlob(s string, i int) int {
	if i >= len(s) || s[i] != '[' {
		return 0
	}
	j := i + 1
	for j < len(s) && s[j] != ']' {
		if s[j] == '[' {
			return 0
		}
		j++
	}
	if j >= len(s) {
		return 0
	}
	j++
	for j < len(s) && s[j] == ' ' {
		j++
	}
	return j - i
}
