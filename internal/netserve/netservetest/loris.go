// Package netservetest holds test clients for the line protocols served
// through netserve (IMAP, POP3), shared by their robustness tests.
package netservetest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"
)

// Loris is a slow-loris client: after the greeting it sends preamble, then
// one byte of trickle every interval, never ending the line, until the
// server closes the connection. It records what the server said.
type Loris struct {
	Lines  []string      // server lines after the greeting
	Closed time.Duration // from dial to EOF or reset; 0 if still open at the deadline
	Err    error
}

// RunLoris dials addr and runs a Loris until the server closes the
// connection or deadline passes.
func RunLoris(addr, preamble, trickle string, interval, deadline time.Duration) Loris {
	start := time.Now()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return Loris{Err: err}
	}
	defer c.Close()
	br := bufio.NewReader(c)
	c.SetReadDeadline(start.Add(deadline))
	if _, err := br.ReadString('\n'); err != nil {
		return Loris{Err: fmt.Errorf("greeting: %w", err)}
	}
	if _, err := io.WriteString(c, preamble); err != nil {
		return Loris{Err: fmt.Errorf("preamble: %w", err)}
	}
	stop := make(chan struct{})
	defer close(stop)
	if trickle != "" {
		go func() {
			t := time.NewTicker(interval)
			defer t.Stop()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-t.C:
				}
				if _, err := c.Write([]byte{trickle[i%len(trickle)]}); err != nil {
					return
				}
			}
		}()
	}
	var l Loris
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			l.Lines = append(l.Lines, strings.TrimRight(line, "\r\n"))
		}
		// A trickled byte that crosses the server's close draws a reset.
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			l.Closed = time.Since(start)
			return l
		}
		if err != nil {
			l.Err = err
			return l
		}
	}
}
