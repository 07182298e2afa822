package quickstart

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// checkListen validates the listener options before anything is written.
func checkListen(bind string, offset *int) error {
	if bind != "" && net.ParseIP(bind) == nil {
		return fmt.Errorf("--bind %q: not an IP address", bind)
	}
	if offset != nil {
		for _, base := range Ports {
			if p := base + *offset; p < 1 || p > 65535 {
				return fmt.Errorf("--port-offset %d: port %d is out of range", *offset, p)
			}
		}
	}
	return nil
}

// relisten rewrites the [listen] addresses of the config at path in place:
// a non-empty bind replaces each address's host, a non-nil offset sets each
// port to its base port plus offset. Every other line, the administrator's
// comments included, stays as it was.
func relisten(path, bind string, offset *int) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := strings.SplitAfter(string(raw), "\n")
	section, changed := "", 0
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "[") {
			section, _, _ = strings.Cut(strings.TrimPrefix(trimmed, "["), "]")
			section = strings.TrimSpace(section)
			continue
		}
		key, val, ok := strings.Cut(trimmed, "=")
		key = strings.TrimSpace(key)
		base, known := Ports[key]
		if section != "listen" || !ok || !known {
			continue
		}
		val = strings.TrimSpace(val)
		quoted, err := strconv.QuotedPrefix(val)
		if err != nil {
			return fmt.Errorf("%s: listen.%s: %w", path, key, err)
		}
		addr, _ := strconv.Unquote(quoted)
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("%s: listen.%s: %w", path, key, err)
		}
		if bind != "" {
			host = bind
		}
		if offset != nil {
			port = strconv.Itoa(base + *offset)
		}
		rest := strings.TrimSuffix(val[len(quoted):], "\n") // a trailing comment
		lines[i] = fmt.Sprintf("%s = %q%s\n", key, net.JoinHostPort(host, port), rest)
		changed++
	}
	if changed == 0 {
		return fmt.Errorf("%s: no [listen] addresses to change; edit the file instead", path)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(lines, "")), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
