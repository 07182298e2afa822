package admin

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/directory/sqlitedir"
)

// opener returns an Opener for a fresh directory file, like the one
// cmd/rookery builds from the config, and the file's path.
func opener(t *testing.T) (Opener, string) {
	path := filepath.Join(t.TempDir(), "directory.db")
	return func(ctx context.Context) (directory.Directory, error) {
		return sqlitedir.Open(ctx, path, sqlitedir.Options{DefaultMailstore: "store1"})
	}, path
}

// transcript runs a script of commands against one directory. A line
// "$ ARGS" runs `rookery ARGS`; "$ ARGS < TEXT" also feeds "TEXT\n" on
// stdin. The lines up to the next "$" are the exact expected stdout, except
// a line "! MESSAGE", which is the expected error message, and
// "!usage MESSAGE", an expected usage error.
func transcript(t *testing.T, open Opener, script string) {
	t.Helper()
	transcriptEnv(t, Env{Directory: open}, script)
}

// transcriptEnv is transcript with every engine of env available.
func transcriptEnv(t *testing.T, env Env, script string) {
	t.Helper()
	type step struct {
		args, stdin, want, wantErr string
		usage                      bool
	}
	var steps []*step
	for line := range strings.SplitSeq(strings.TrimSpace(script), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "$" || strings.HasPrefix(line, "$ "):
			s := &step{args: strings.TrimPrefix(line, "$")}
			if a, in, ok := strings.Cut(s.args+" ", " < "); ok {
				s.args, s.stdin = a, strings.TrimSpace(in)+"\n"
			}
			steps = append(steps, s)
		case strings.HasPrefix(line, "!usage "):
			steps[len(steps)-1].wantErr, steps[len(steps)-1].usage = line[7:], true
		case strings.HasPrefix(line, "! "):
			steps[len(steps)-1].wantErr = line[2:]
		default:
			steps[len(steps)-1].want += line + "\n"
		}
	}
	for _, s := range steps {
		var stdout, stderr bytes.Buffer
		env.Stdin, env.Stdout, env.Stderr = strings.NewReader(s.stdin), &stdout, &stderr
		err := Run(t.Context(), strings.Fields(s.args), env)
		switch {
		case s.wantErr == "" && err != nil:
			t.Errorf("$ %s: error %v", s.args, err)
		case s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)):
			t.Errorf("$ %s: error %v, want %q", s.args, err, s.wantErr)
		case s.wantErr != "" && s.usage != errors.Is(err, ErrUsage):
			t.Errorf("$ %s: error %v: usage error is %v, want %v", s.args, err, !s.usage, s.usage)
		case s.usage && !strings.Contains(stderr.String(), "usage:"):
			t.Errorf("$ %s: no usage text on stderr: %q", s.args, stderr.String())
		}
		if got := stdout.String(); got != s.want {
			t.Errorf("$ %s: stdout\n%s\nwant\n%s", s.args, got, s.want)
		}
	}
}

func TestDomainCommands(t *testing.T) {
	open, _ := opener(t)
	transcript(t, open, `
		$ domain list
		$ domain add Example.TEST
		added domain example.test
		$ domain add b.test
		added domain b.test
		$ domain add example.test
		! domain example.test already exists
		$ domain add bad_domain
		! invalid domain "bad_domain": character '_' not allowed
		$ domain list
		b.test
		example.test
		$ user add alice@example.test --password-stdin < pw
		created alice@example.test
		$ domain del example.test
		! domain example.test still has accounts or aliases; see rookery user list example.test and rookery alias list example.test
		$ domain del b.test
		deleted domain b.test
		$ domain del b.test
		! domain b.test does not exist
		$ domain list
		example.test
	`)
}

func TestUserCommands(t *testing.T) {
	open, path := opener(t)
	transcript(t, open, `
		$ user add alice@example.test
		! domain example.test does not exist; add it with: rookery domain add example.test
		$ domain add example.test
		added domain example.test
		$ domain add other.test
		added domain other.test
		$ user add Alice@Example.test --password-stdin < secret one
		created alice@example.test
		$ user add --mailstore store2 bob@example.test --password-stdin < pw
		created bob@example.test
		$ user add carol@other.test --mailstore=store3 --password-stdin < pw
		created carol@other.test
		$ user add alice@example.test --password-stdin < pw
		! account alice@example.test already exists
		$ user add dave@example.test --password-stdin <
		! empty password on stdin
		$ user add not-an-address --password-stdin < pw
		! invalid address "not-an-address": must contain exactly one '@'
		$ user list
		alice@example.test store1
		bob@example.test store2
		carol@other.test store3
		$ user list other.test
		carol@other.test store3
		$ user list nowhere.test
		! domain nowhere.test does not exist; add it with: rookery domain add nowhere.test
		$ user passwd alice@example.test --password-stdin < secret two
		updated alice@example.test
		$ user passwd nobody@example.test --password-stdin < x
		! account nobody@example.test does not exist
		$ user del BOB@example.test
		deleted bob@example.test
		$ user del bob@example.test
		! account bob@example.test does not exist
		$ user list example.test
		alice@example.test store1
	`)
	d, err := sqlitedir.Open(t.Context(), path, sqlitedir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// The whole line is the password, inner space included, CR/LF excluded.
	if _, err := d.Authenticate(t.Context(), "alice@example.test", "secret two"); err != nil {
		t.Errorf("Authenticate with the password from stdin: %v", err)
	}
}

func TestPasswordStdinCRLF(t *testing.T) {
	open, path := opener(t)
	transcript(t, open, `
		$ domain add example.test
		added domain example.test
	`)
	var out bytes.Buffer
	err := Run(t.Context(), []string{"user", "add", "alice@example.test", "--password-stdin"},
		Env{Stdin: strings.NewReader("pass word\r\nsecond line\n"), Stdout: &out, Stderr: &out, Directory: open})
	if err != nil {
		t.Fatal(err)
	}
	d, err := sqlitedir.Open(t.Context(), path, sqlitedir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Authenticate(t.Context(), "alice@example.test", "pass word"); err != nil {
		t.Errorf("Authenticate: %v", err)
	}
}

// Without --password-stdin the generated password is printed once, and it
// is the one that works.
func TestGeneratedPassword(t *testing.T) {
	open, path := opener(t)
	transcript(t, open, `
		$ domain add example.test
		added domain example.test
	`)
	for _, args := range [][]string{
		{"user", "add", "alice@example.test"},
		{"user", "passwd", "alice@example.test"},
	} {
		var stdout, stderr bytes.Buffer
		if err := Run(t.Context(), args, Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Directory: open}); err != nil {
			t.Fatal(err)
		}
		verb := map[string]string{"add": "created", "passwd": "updated"}[args[1]]
		prefix := verb + " alice@example.test password: "
		line, ok := strings.CutPrefix(stdout.String(), prefix)
		pw, ok2 := strings.CutSuffix(line, "\n")
		if !ok || !ok2 || len(pw) != 20 || strings.Contains(pw, "\n") {
			t.Fatalf("%v: stdout %q, want %q + a 20-character password", args, stdout.String(), prefix)
		}
		d, err := sqlitedir.Open(t.Context(), path, sqlitedir.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Authenticate(t.Context(), "alice@example.test", pw); err != nil {
			t.Errorf("%v: Authenticate with the printed password: %v", args, err)
		}
		d.Close()
	}
}

func TestAliasCommands(t *testing.T) {
	open, _ := opener(t)
	transcript(t, open, `
		$ alias add sales@example.test alice@example.test
		! domain example.test does not exist; add it with: rookery domain add example.test
		$ domain add example.test
		added domain example.test
		$ domain add other.test
		added domain other.test
		$ alias add Sales@example.test bob@example.test Alice@Example.test
		added alias sales@example.test -> bob@example.test
		added alias sales@example.test -> alice@example.test
		$ alias add sales@example.test carol@external.test
		added alias sales@example.test -> carol@external.test
		$ alias add sales@example.test bob@example.test
		! alias sales@example.test -> bob@example.test already exists; nothing added
		$ alias add @other.test postmaster@example.test
		added alias @other.test -> postmaster@example.test
		$ alias add sales@example.test sales@example.test
		! invalid alias sales@example.test: points to itself
		$ alias add info@example.test bad
		! invalid address "bad": must contain exactly one '@'
		$ alias list
		@other.test -> postmaster@example.test
		sales@example.test -> alice@example.test
		sales@example.test -> bob@example.test
		sales@example.test -> carol@external.test
		$ alias list example.test
		sales@example.test -> alice@example.test
		sales@example.test -> bob@example.test
		sales@example.test -> carol@external.test
		$ alias list nowhere.test
		! domain nowhere.test does not exist; add it with: rookery domain add nowhere.test
		$ alias del sales@example.test bob@example.test
		deleted alias sales@example.test -> bob@example.test
		$ alias del sales@example.test bob@example.test
		! alias sales@example.test has no target bob@example.test
		$ alias del sales@example.test
		deleted alias sales@example.test
		$ alias del sales@example.test
		! alias sales@example.test does not exist
		$ alias list example.test
		$ domain del other.test
		! domain other.test still has accounts or aliases
		$ alias del @other.test
		deleted alias @other.test
		$ domain del other.test
		deleted domain other.test
	`)
}

func TestUsageErrors(t *testing.T) {
	open := func(context.Context) (directory.Directory, error) {
		return nil, errors.New("usage errors must not open the directory")
	}
	transcript(t, open, `
		$
		!usage no command given
		$ frobnicate
		!usage unknown command "frobnicate"
		$ user
		!usage user: missing subcommand
		$ user frob
		!usage unknown command "user frob"
		$ user add
		!usage user add: wrong number of arguments
		$ user add a@example.test b@example.test
		!usage user add: wrong number of arguments
		$ user add a@example.test --bogus
		!usage user add: flag provided but not defined: -bogus
		$ user add a@example.test --mailstore
		!usage user add: flag needs an argument: -mailstore
		$ user passwd a@example.test --mailstore x
		!usage user passwd: flag provided but not defined: -mailstore
		$ domain list extra
		!usage domain list: wrong number of arguments
		$ alias add a@example.test
		!usage alias add: wrong number of arguments
		$ alias del a@example.test b@example.test c@example.test
		!usage alias del: wrong number of arguments
		$ domain add --password-stdin example.test
		!usage domain add: flag provided but not defined: -password-stdin
	`)
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"user", "-h"}, {"user", "add", "-h"}} {
		var stdout, stderr bytes.Buffer
		if err := Run(t.Context(), args, Env{Stdout: &stdout, Stderr: &stderr}); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(stdout.String(), "usage:") || !strings.Contains(stdout.String(), "rookery user add") && args[0] == "user" {
			t.Errorf("%v: stdout %q, want usage", args, stdout.String())
		}
	}
}

// An argument after "--" is positional even if it looks like a flag.
func TestDoubleDash(t *testing.T) {
	open, _ := opener(t)
	transcript(t, open, `
		$ domain add -- example.test
		added domain example.test
		$ user add --password-stdin -- -alice@example.test < pw
		created -alice@example.test
	`)
}

// TestUserAddMailstore: --mailstore must name a configured mailstore; an
// account on a store no node opens could neither log in nor receive mail.
func TestUserAddMailstore(t *testing.T) {
	open, _ := opener(t)
	transcriptEnv(t, Env{Directory: open, Mailstores: func() []string { return []string{"store1", "store2"} }}, `
$ domain add example.test
added domain example.test
$ user add bob@example.test --password-stdin --mailstore store3 < pw
! mailstore "store3" is not configured (configured: store1, store2)
$ user add bob@example.test --password-stdin --mailstore store2 < pw
created bob@example.test
$ user list
bob@example.test store2
`)
}
