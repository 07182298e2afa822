package directory

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for new hashes (RFC 9106 §4, second recommended option:
// 64 MiB, 2 passes is affordable for a login rate of a mail server). Verify
// reads the parameters from the stored string, so these can change later
// without invalidating existing hashes.
const (
	argonMemory  = 64 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Upper bounds on parameters accepted from a stored hash, so a corrupt or
// hostile row cannot make one login allocate gigabytes or spin for minutes.
const (
	maxArgonMemory = 1024 * 1024 // KiB = 1 GiB
	maxArgonTime   = 64
	maxArgonKeyLen = 128
)

// b64 is the PHC string format's base64: standard alphabet, no padding.
var b64 = base64.RawStdEncoding

// HashPassword returns the argon2id hash of password as a PHC string,
// "$argon2id$v=19$m=65536,t=2,p=1$<salt>$<hash>", with a fresh random salt.
func HashPassword(password string) (string, error) {
	if password == "" {
		return "", fmt.Errorf("empty password: %w", ErrInvalid)
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the PHC string encoded,
// comparing in constant time. An error means the stored hash is unusable
// (malformed or out of bounds), which is a data problem, not a wrong password.
func VerifyPassword(encoded, password string) (bool, error) {
	p, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

// SpendVerifyTime does the work of one VerifyPassword with the current
// parameters and discards the result. Callers run it when the account does
// not exist, so the response time does not reveal which accounts exist.
func SpendVerifyTime(password string) {
	var salt [argonSaltLen]byte
	key := argon2.IDKey([]byte(password), salt[:], argonTime, argonMemory, argonThreads, argonKeyLen)
	var zero [argonKeyLen]byte
	subtle.ConstantTimeCompare(key, zero[:])
}

type phcParams struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parsePHC parses "$argon2id$v=19$m=M,t=T,p=P$salt$hash".
func parsePHC(s string) (phcParams, error) {
	var p phcParams
	bad := func(why string) (phcParams, error) {
		return phcParams{}, fmt.Errorf("password hash: %s: %w", why, ErrInvalid)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("not a PHC string")
	}
	if parts[1] != "argon2id" {
		return bad("unsupported algorithm " + strconv.Quote(parts[1]))
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("unsupported version " + strconv.Quote(parts[2]))
	}
	var seen int
	for kv := range strings.SplitSeq(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return bad("malformed parameter " + strconv.Quote(kv))
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return bad("malformed parameter " + strconv.Quote(kv))
		}
		switch k {
		case "m":
			p.memory, seen = uint32(n), seen|1
		case "t":
			p.time, seen = uint32(n), seen|2
		case "p":
			if n > 255 {
				return bad("parallelism out of range")
			}
			p.threads, seen = uint8(n), seen|4
		default:
			return bad("unknown parameter " + strconv.Quote(k))
		}
	}
	if seen != 7 {
		return bad("missing parameter")
	}
	if p.threads < 1 || p.time < 1 || p.time > maxArgonTime || p.memory < 8*uint32(p.threads) || p.memory > maxArgonMemory {
		return bad("parameters out of range")
	}
	var err error
	if p.salt, err = b64.DecodeString(parts[4]); err != nil || len(p.salt) < 8 {
		return bad("malformed salt")
	}
	if p.key, err = b64.DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > maxArgonKeyLen {
		return bad("malformed hash")
	}
	return p, nil
}

// passwordAlphabet leaves out characters people confuse when reading a
// password aloud or off a screen: 0/O/o, 1/l/I, and 5/S, 2/Z.
const passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRTUVWXY346789"

// generatedLen gives about 114 bits of entropy with passwordAlphabet.
const generatedLen = 20

// GeneratePassword returns a random password of 20 characters from an
// alphabet without look-alike characters, for the admin to hand to a user.
func GeneratePassword() string {
	out := make([]byte, 0, generatedLen)
	var buf [32]byte
	// Rejection sampling keeps every character equally likely.
	limit := byte(256 - 256%len(passwordAlphabet))
	for len(out) < generatedLen {
		_, _ = rand.Read(buf[:]) // documented never to fail since Go 1.24
		for _, b := range buf {
			if b < limit && len(out) < generatedLen {
				out = append(out, passwordAlphabet[int(b)%len(passwordAlphabet)])
			}
		}
	}
	return string(out)
}
