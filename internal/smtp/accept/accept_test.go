package accept

import (
	"bytes"
	"strings"
	"testing"
)

func TestTooManyHops(t *testing.T) {
	hops := func(n int) []byte {
		return []byte(strings.Repeat("Received: from x\r\n\tby y; date\r\n", n) + "Subject: s\r\n\r\n" +
			strings.Repeat("Received: in the body\r\n", 100))
	}
	if tooManyHops(hops(MaxHops)) {
		t.Errorf("%d Received fields refused", MaxHops)
	}
	if !tooManyHops(hops(MaxHops + 1)) {
		t.Errorf("%d Received fields accepted", MaxHops+1)
	}
	if !tooManyHops(bytes.ToLower(hops(MaxHops + 1))) {
		t.Errorf("lower-case received: fields not counted")
	}
}
