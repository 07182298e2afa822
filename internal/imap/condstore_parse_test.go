package imap

import "testing"

// TestParseCondstoreModifiers covers the argument syntax of RFC 7162 §7
// for the SELECT, FETCH and STORE modifiers.
func TestParseCondstoreModifiers(t *testing.T) {
	tests := []struct {
		name, in string
		parse    func(p *parser) error
		ok       bool
	}{
		{"select none", "", selectP, true},
		{"select condstore", " (CONDSTORE)", selectP, true},
		{"select qresync", " (QRESYNC (67890007 20050715194045000 41,43:211,214:541))", selectP, true},
		{"select qresync seqmatch", " (QRESYNC (1 2 (1:3 4:6)))", selectP, true},
		{"select qresync uids seqmatch", " (QRESYNC (1 2 1:9 (1:3 4:6)))", selectP, true},
		{"select qresync zero modseq", " (QRESYNC (1 0))", selectP, false},
		{"select qresync zero uidvalidity", " (QRESYNC (0 5))", selectP, false},
		{"select unknown", " (BOGUS)", selectP, false},
		{"select trailing", " (CONDSTORE) x", selectP, false},
		{"fetch changedsince", " (CHANGEDSINCE 12345)", fetchP, true},
		{"fetch vanished", " (CHANGEDSINCE 1 VANISHED)", fetchP, true},
		{"fetch vanished alone", " (VANISHED)", fetchP, false},
		{"fetch missing number", " (CHANGEDSINCE)", fetchP, false},
		{"fetch huge", " (CHANGEDSINCE 99999999999999999999)", fetchP, false},
		{"store unchangedsince", "(UNCHANGEDSINCE 7) ", storeP, true},
		{"store none", "+FLAGS", storeP, true},
		{"store unknown", "(BOGUS 7) ", storeP, false},
		{"store no space", "(UNCHANGEDSINCE 7)+FLAGS", storeP, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.parse(&parser{b: []byte(tc.in)})
			if (err == nil) != tc.ok {
				t.Errorf("parse %q: err = %v, want ok=%v", tc.in, err, tc.ok)
			}
		})
	}
}

func selectP(p *parser) error { _, err := parseSelectParams(p); return err }
func fetchP(p *parser) error  { _, err := parseFetchModifiers(p); return err }
func storeP(p *parser) error  { _, _, err := parseStoreModifiers(p); return err }
