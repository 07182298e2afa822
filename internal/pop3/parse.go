package pop3

import (
	"bytes"
	"errors"
	"strings"
)

// command is one parsed command line.
type command struct {
	name string // upper case keyword
	arg  string // the rest of the line after one space, verbatim ("" if none)
}

var (
	errEmpty   = errors.New("empty command")
	errKeyword = errors.New("invalid command keyword")
	errChars   = errors.New("invalid characters in command")
)

// parseCommand splits a line (without CRLF) into keyword and argument.
// RFC 1939 §3: a keyword of three or four printable characters, then
// arguments separated by single spaces. The argument is kept whole because
// PASS takes the rest of the line, spaces included (RFC 1939 §7); each
// handler splits its own arguments with fields.
func parseCommand(line []byte) (command, error) {
	if len(line) == 0 {
		return command{}, errEmpty
	}
	// NUL and other controls other than TAB never belong in a command;
	// refusing them here keeps them out of logs and the store.
	for _, c := range line {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return command{}, errChars
		}
	}
	kw, rest, _ := bytes.Cut(line, []byte{' '})
	if len(kw) < 3 || len(kw) > 4 {
		return command{}, errKeyword
	}
	for _, c := range kw {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return command{}, errKeyword
		}
	}
	return command{name: strings.ToUpper(string(kw)), arg: string(rest)}, nil
}

// fields splits an argument string on spaces, as lenient as Dovecot about
// repeated and trailing spaces.
func fields(arg string) []string { return strings.Fields(arg) }

// parseNumber parses a message number or line count: decimal digits only,
// no sign, at most 9 digits so it fits any int.
func parseNumber(s string) (int, bool) {
	if len(s) == 0 || len(s) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
