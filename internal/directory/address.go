package directory

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Every engine stores and compares addresses in the canonical form these
// functions return, so lookups are plain equality and case never matters.
// Internationalized domain names must be given in A-label form (xn--...):
// without an IDNA table in the module, guessing a conversion would be worse
// than refusing.

// NormalizeDomain trims and lower-cases a domain name and checks its syntax
// (RFC 1035 §2.3.1 labels, with digits allowed first as RFC 1123 §2.1 says).
func NormalizeDomain(name string) (string, error) {
	d := strings.ToLower(strings.TrimSpace(name))
	d = strings.TrimSuffix(d, ".") // a fully qualified "example.test." is the same domain
	if err := checkDomain(d); err != nil {
		return "", fmt.Errorf("domain %q: %s: %w", name, err, ErrInvalid)
	}
	return d, nil
}

func checkDomain(d string) error {
	if d == "" {
		return fmt.Errorf("empty")
	}
	if len(d) > 253 {
		return fmt.Errorf("longer than 253 characters")
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" {
			return fmt.Errorf("empty label")
		}
		if len(label) > 63 {
			return fmt.Errorf("label longer than 63 characters")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("label starts or ends with '-'")
		}
		for _, c := range label {
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
			case c >= utf8.RuneSelf:
				return fmt.Errorf("not ASCII; use the xn-- (A-label) form")
			default:
				return fmt.Errorf("character %q not allowed", c)
			}
		}
	}
	return nil
}

// NormalizeAddress trims and lower-cases an address "local@domain" (the
// local part too: this system treats local parts case-insensitively) and
// checks its syntax. It refuses the catch-all form "@domain"; see
// NormalizeAliasAddress.
func NormalizeAddress(addr string) (string, error) {
	a, err := normalize(addr, false)
	if err != nil {
		return "", err
	}
	return a, nil
}

// NormalizeAliasAddress is NormalizeAddress that also accepts a domain's
// catch-all, "@domain".
func NormalizeAliasAddress(addr string) (string, error) {
	return normalize(addr, true)
}

func normalize(addr string, catchAll bool) (string, error) {
	a := strings.ToLower(strings.TrimSpace(addr))
	local, domain, ok := strings.Cut(a, "@")
	if !ok || strings.Contains(domain, "@") {
		return "", fmt.Errorf("address %q: must contain exactly one '@': %w", addr, ErrInvalid)
	}
	if local == "" && !catchAll {
		return "", fmt.Errorf("address %q: empty local part: %w", addr, ErrInvalid)
	}
	if err := checkLocal(local); err != nil {
		return "", fmt.Errorf("address %q: %s: %w", addr, err, ErrInvalid)
	}
	d, err := NormalizeDomain(domain)
	if err != nil {
		return "", fmt.Errorf("address %q: %w", addr, err)
	}
	return local + "@" + d, nil
}

// checkLocal accepts dot-atom local parts (RFC 5322 §3.2.3), UTF-8 included
// (RFC 6531 §3.3); quoted local parts are not supported.
func checkLocal(local string) error {
	if len(local) > 64 {
		return fmt.Errorf("local part longer than 64 octets")
	}
	if !utf8.ValidString(local) {
		return fmt.Errorf("local part is not valid UTF-8")
	}
	for _, c := range local {
		if unicode.IsSpace(c) || unicode.IsControl(c) || strings.ContainsRune(`"(),:;<>[\]`, c) {
			return fmt.Errorf("character %q not allowed in the local part", c)
		}
	}
	return nil
}

// AddressDomain returns the domain of a canonical address (or catch-all).
func AddressDomain(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return d
}

// IsCatchAll reports whether a canonical alias address is a catch-all "@domain".
func IsCatchAll(addr string) bool {
	return strings.HasPrefix(addr, "@")
}

// NormalizeAlias returns an alias's canonical address (NormalizeAliasAddress)
// and targets (NormalizeAddress each), or ErrInvalid for no targets or a
// target that is the alias itself. Engines store only what it returns.
func NormalizeAlias(address string, targets []string) (string, []string, error) {
	addr, err := NormalizeAliasAddress(address)
	if err != nil {
		return "", nil, err
	}
	if len(targets) == 0 {
		return "", nil, fmt.Errorf("alias %s: no targets: %w", addr, ErrInvalid)
	}
	norm := make([]string, 0, len(targets))
	for _, t := range targets {
		n, err := NormalizeAddress(t)
		if err != nil {
			return "", nil, fmt.Errorf("alias %s: target: %w", addr, err)
		}
		if n == addr {
			return "", nil, fmt.Errorf("alias %s: points to itself: %w", addr, ErrInvalid)
		}
		norm = append(norm, n)
	}
	return addr, norm, nil
}
