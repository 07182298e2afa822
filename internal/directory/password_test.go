package directory

import (
	"errors"
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=2,p=1$") {
		t.Fatalf("hash %q: unexpected format", h)
	}
	h2, _ := HashPassword("correct horse")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	for pw, want := range map[string]bool{"correct horse": true, "correct hors": false, "": false} {
		ok, err := VerifyPassword(h, pw)
		if err != nil || ok != want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	if _, err := HashPassword(""); !errors.Is(err, ErrInvalid) {
		t.Errorf("HashPassword empty: %v", err)
	}
}

// Hashes with other parameters still verify: they come from the string.
// Vectors from the argon2 reference implementation's tests
// (phc-winner-argon2 src/test.c).
func TestVerifyReferenceVectors(t *testing.T) {
	for _, h := range []string{
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc",
		"$argon2id$v=19$m=65536,t=1,p=1$c29tZXNhbHQ$9qWtwbpyPd3vm1rB1GThgPzZ3/ydHL92zKL+15XZypg",
	} {
		for pw, want := range map[string]bool{"password": true, "passwore": false} {
			ok, err := VerifyPassword(h, pw)
			if err != nil || ok != want {
				t.Errorf("VerifyPassword(%q, %q) = %v, %v; want %v", h, pw, ok, err, want)
			}
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	good := "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"
	for _, h := range []string{
		"",
		"plain",
		"$argon2i$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$6hShx5n5MjswKDrxCMhNRcq5tr+8XBJPMP+DqbMuDU8",
		"$argon2id$v=16$m=1024,t=1,p=1$c29tZXNhbHQ$6hShx5n5MjswKDrxCMhNRcq5tr+8XBJPMP+DqbMuDU8",
		"$argon2id$v=19$m=99999999,t=1,p=1$c29tZXNhbHQ$6hShx5n5MjswKDrxCMhNRcq5tr+8XBJPMP+DqbMuDU8",
		"$argon2id$v=19$m=1024,t=0,p=1$c29tZXNhbHQ$6hShx5n5MjswKDrxCMhNRcq5tr+8XBJPMP+DqbMuDU8",
		"$argon2id$v=19$m=1024,t=1$c29tZXNhbHQ$6hShx5n5MjswKDrxCMhNRcq5tr+8XBJPMP+DqbMuDU8",
		"$argon2id$v=19$m=1024,t=1,p=1,x=2$c29tZXNhbHQ$6hShx5n5MjswKDrxCMhNRcq5tr+8XBJPMP+DqbMuDU8",
		"$argon2id$v=19$m=1024,t=1,p=1$!!$6hShx5n5MjswKDrxCMhNRcq5tr+8XBJPMP+DqbMuDU8",
		"$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$short",
		good + "$extra",
	} {
		if _, err := VerifyPassword(h, "password"); !errors.Is(err, ErrInvalid) {
			t.Errorf("VerifyPassword(%q): %v, want ErrInvalid", h, err)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		p := GeneratePassword()
		if len(p) != 20 {
			t.Fatalf("GeneratePassword() = %q: length %d", p, len(p))
		}
		for _, c := range p {
			if !strings.ContainsRune(passwordAlphabet, c) || strings.ContainsRune("0O1lIoS5Z2", c) {
				t.Fatalf("GeneratePassword() = %q: character %q", p, c)
			}
		}
		if seen[p] {
			t.Fatalf("GeneratePassword() repeated %q", p)
		}
		seen[p] = true
	}
}

func BenchmarkVerify(b *testing.B) {
	h, _ := HashPassword("pw")
	for b.Loop() {
		VerifyPassword(h, "pw")
	}
}

func BenchmarkSpendVerifyTime(b *testing.B) {
	for b.Loop() {
		SpendVerifyTime("pw")
	}
}
