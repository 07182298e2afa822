package netserve

import (
	"bufio"
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestLimiterBounds(t *testing.T) {
	l := NewLimiter(2, 3)
	if !l.Acquire("a") || !l.Acquire("a") || l.Acquire("a") {
		t.Fatal("per-IP bound of 2 not kept")
	}
	if !l.Acquire("b") || l.Acquire("c") {
		t.Fatal("total bound of 3 not kept")
	}
	l.Release("a")
	if !l.Acquire("c") {
		t.Fatal("a released slot is not free")
	}
	if l.count("a") != 1 || l.count("c") != 1 {
		t.Fatalf("counts a=%d c=%d, want 1 and 1", l.count("a"), l.count("c"))
	}
	local := NewLimiter(1, 3, netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"))
	if !local.Acquire("127.0.0.1") || !local.Acquire("::ffff:127.0.0.2") || !local.Acquire("127.0.0.1") || local.Acquire("::1") {
		t.Fatal("exempt addresses: no per-IP bound, but the total of 3 holds")
	}
	local.Release("127.0.0.1")
	if !local.Acquire("192.0.2.1") || local.Acquire("192.0.2.1") {
		t.Fatal("a non-exempt address is not bounded per IP")
	}
}

// TestListenerGreetingTimeout: the server's own, longer read deadline is
// cut to the greeting timeout until Greeted, and restored by it.
func TestListenerGreetingTimeout(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := NewLimiter(1, 0).Listener(raw, ListenOptions{GreetingTimeout: 200 * time.Millisecond,
		Refuse: func(c net.Conn) { c.Write([]byte("busy\n")) }})
	defer ln.Close()
	serverErr := make(chan error, 2)
	go func() {
		for i := 0; i < 2; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(i int) {
				defer c.Close()
				c.SetReadDeadline(time.Now().Add(time.Minute))
				if i == 1 {
					Greeted(c)
				}
				_, err := bufio.NewReader(c).ReadString('\n')
				serverErr <- err
			}(i)
		}
	}()
	silent, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	select {
	case err := <-serverErr:
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Fatalf("silent client: server read %v, want a timeout", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the greeting timeout did not cut the server's read deadline")
	}
	// The first connection is closed: its slot is free for the next.
	for deadline := time.Now().Add(5 * time.Second); ln.(*limitListener).lim.count("127.0.0.1") != 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a closed connection kept its slot")
		}
	}
	greeted, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer greeted.Close()
	time.Sleep(400 * time.Millisecond) // past the greeting timeout: a greeted connection lives on
	greeted.Write([]byte("hello\n"))
	if err := <-serverErr; err != nil {
		t.Fatalf("greeted client: server read %v", err)
	}
}
