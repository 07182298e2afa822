// Package testsvc starts the external services the scaled engines are tested
// against: a throwaway PostgreSQL 15 cluster and an S3 server (versitygw), via
// scripts/pg-start.sh and scripts/s3-start.sh. Each test binary starts at most
// one of each, on first use, and every test gets its own database or bucket, so
// tests stay isolated without paying a server start each.
//
// The servers are stopped by a watchdog the start scripts leave behind, within
// a second of the test binary exiting, however it exits (a panic or a -timeout
// included), so no TestMain is needed.
//
// ROOKERY_TEST_PG_DSN (a superuser's DSN) and ROOKERY_TEST_S3 (host:port of
// an S3 server taking the test credentials) make every test binary share
// servers started once, as .ci/run does, instead of starting its own.
//
// When a service cannot be found, tests skip with a message saying how to
// install it; under CI=true they fail instead, so CI can never pass by skipping.
package testsvc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// errMissing marks a service whose software is not installed; anything else
// that stops a service from starting is a real failure.
var errMissing = errors.New("not installed")

// unavailable skips or, under CI=true, fails the test because a service could
// not be started; err wrapping errMissing gets the install hint.
func unavailable(t testing.TB, service string, err error, hint string) {
	t.Helper()
	msg := fmt.Sprintf("testsvc: %s unavailable: %v", service, err)
	if errors.Is(err, errMissing) {
		msg += "\n" + hint
	}
	if os.Getenv("CI") == "true" || !errors.Is(err, errMissing) {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// scriptsDir is the repository's scripts directory, found from this file's
// path so tests work from any package directory.
func scriptsDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "scripts")
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// runScript runs scripts/NAME with args and extra environment env, stopping
// the service it starts when this process exits. Exit status 3 means the
// software is missing.
func runScript(name string, env []string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(scriptsDir(), name), args...)
	cmd.Env = append(os.Environ(), "ROOKERY_WATCH_PID="+strconv.Itoa(os.Getpid()))
	cmd.Env = append(cmd.Env, env...)
	// The server and watchdog redirect their output; WaitDelay guards against
	// one that does not, which would otherwise hold the pipe open forever.
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	msg := strings.TrimSpace(string(out))
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 3 {
		return fmt.Errorf("%w: %s", errMissing, msg)
	}
	return fmt.Errorf("%s: %v: %s", name, err, msg)
}

// startServer runs scripts/start with a new directory and a free loopback
// port and returns the port and directory. Another process can take the port
// between freePort and the server's bind, so a failed start is retried on a
// new one.
func startServer(start, stop, dirPrefix string, env []string) (port int, dir string, err error) {
	for attempt := 0; attempt < 3; attempt++ {
		if port, err = freePort(); err != nil {
			return 0, "", err
		}
		if dir, err = publicTempDir(dirPrefix); err != nil {
			return 0, "", err
		}
		err = runScript(start, env, dir, strconv.Itoa(port))
		if err == nil {
			return port, dir, nil
		}
		// Whatever the failed start left running or on disk goes first.
		_ = runScript(stop, nil, dir)
		_ = os.RemoveAll(dir)
		if errors.Is(err, errMissing) || attempt == 2 {
			return 0, "", err
		}
	}
	panic("unreachable")
}

// publicTempDir makes a directory under the system temp dir that other users
// can traverse: the PostgreSQL server runs as "postgres" when tests run as root,
// and t.TempDir's directories are private to the test's user. The watchdog
// removes it when the test binary exits.
func publicTempDir(prefix string) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	return dir, os.Chmod(dir, 0o755)
}

var (
	seq          atomic.Int64
	notNameChars = regexp.MustCompile(`[^a-z0-9]+`)
)

// uniqueName is a lower-case name for a test's database or bucket, made of
// [a-z0-9-] or [a-z0-9_] (sep), at most limit bytes, unique on the server.
func uniqueName(t testing.TB, sep string, limit int) string {
	base := strings.Trim(notNameChars.ReplaceAllString(strings.ToLower(t.Name()), sep), sep)
	// The PID keeps names apart when several test binaries share a server.
	suffix := fmt.Sprintf("%s%d%s%d", sep, os.Getpid(), sep, seq.Add(1))
	if room := limit - len("t") - len(sep) - len(suffix); len(base) > room {
		base = base[:room]
	}
	return "t" + sep + strings.Trim(base, sep) + suffix
}
