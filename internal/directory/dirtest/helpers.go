package dirtest

import (
	"errors"
	"strconv"
	"testing"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func quote(s string) string { return strconv.Quote(s) }

// must2 checks the error of a two-result call: must2(t)(f()).
func must2(t *testing.T) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}
