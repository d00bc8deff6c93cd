package scan

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// sweeper runs the connect phase: a fixed pool of workers takes port
// indexes from a shared counter, so a full-range scan starts Concurrency
// goroutines, not 65,535.
type sweeper struct {
	addr netip.Addr
	cfg  *config
	prog *progressCounter
	lim  *limiter // nil: no rate cap
	// quick enables the loopback fast path (see quickConnect).
	quick bool
}

// reasonInterrupted marks a port whose connect the cancelled context cut
// short; like a port never reached, it is left out of the result.
const reasonInterrupted = "interrupted"

// localRetries bounds the retries of a connect that failed for a local
// reason (EMFILE, EADDRNOTAVAIL, ...) before the port is marked Unknown.
const localRetries = 5

func (s *sweeper) sweep(ctx context.Context, ports []Port) {
	if len(ports) == 0 {
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	d := &net.Dialer{Timeout: s.cfg.Timeout}
	workers := min(s.cfg.Concurrency, len(ports))
	for range workers {
		wg.Go(func() {
			var buf [64]byte // address text, reused per worker
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ports) || ctx.Err() != nil {
					return
				}
				p := &ports[i]
				p.State, p.Reason = s.connect(ctx, d, p.Port, buf[:0])
				s.prog.done.Add(1)
				if p.State == Open {
					s.prog.open.Add(1)
				}
			}
		})
	}
	wg.Wait()
}

// connect dials one port and returns its verdict.
func (s *sweeper) connect(ctx context.Context, d *net.Dialer, port uint16, buf []byte) (State, string) {
	var address string
	var err error
	for attempt := range localRetries + 1 {
		if s.lim != nil {
			if err := s.lim.wait(ctx); err != nil {
				return Unknown, reasonInterrupted
			}
		}
		if s.quick {
			if st, reason, ok := quickConnect(s.addr, port); ok {
				return st, reason
			}
		}
		if address == "" {
			address = string(netip.AddrPortFrom(s.addr, port).AppendTo(buf))
		}
		var c net.Conn
		c, err = d.DialContext(ctx, "tcp", address)
		if err == nil {
			c.Close()
			return Open, "syn-ack"
		}
		if ctx.Err() != nil {
			return Unknown, reasonInterrupted
		}
		if !isLocalError(err) {
			break
		}
		if !sleepCtx(ctx, time.Duration(attempt+1)*10*time.Millisecond) {
			return Unknown, reasonInterrupted
		}
	}
	return Classify(err)
}

// Classify sorts the error of a TCP connect into a verdict and a reason:
// nil is open; a refusal or reset is closed; a timeout or an ICMP
// unreachable is filtered; a local failure (out of file descriptors,
// buffers or local ports) is Unknown, because the target was never asked.
func Classify(err error) (State, string) {
	if err == nil {
		return Open, "syn-ack"
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return Closed, "conn-refused"
	case errors.Is(err, syscall.ECONNRESET):
		return Closed, "reset"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return Filtered, "host-unreachable"
	case errors.Is(err, syscall.ENETUNREACH):
		return Filtered, "net-unreachable"
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		// A local firewall (netfilter REJECT with admin-prohibited, or a
		// DROP on OUTPUT that returns EPERM) blocked the connect.
		return Filtered, "admin-prohibited"
	case isTimeout(err):
		return Filtered, "no-response"
	case isLocalError(err):
		return Unknown, "local-error: " + errText(err)
	}
	return Unknown, "error: " + errText(err)
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, syscall.ETIMEDOUT) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isLocalError reports errors that say nothing about the target.
func isLocalError(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.ENOBUFS) ||
		errors.Is(err, syscall.ENOMEM) || errors.Is(err, syscall.EAGAIN)
}

// errText is the innermost message of err ("connection refused" rather than
// "dial tcp 127.0.0.1:1: connect: connection refused").
func errText(err error) string {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err.Error()
	}
	return err.Error()
}

// sleepCtx sleeps for d or until ctx is done; it reports whether the full
// sleep happened.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// limiter spaces connects evenly at a fixed rate across all workers: each
// caller reserves the next free slot and sleeps until it.
type limiter struct {
	interval time.Duration
	mu       sync.Mutex
	next     time.Time
}

func newLimiter(perSecond int) *limiter {
	return &limiter{interval: time.Second / time.Duration(perSecond)}
}

func (l *limiter) wait(ctx context.Context) error {
	now := time.Now()
	l.mu.Lock()
	slot := l.next
	if slot.Before(now) {
		slot = now
	}
	l.next = slot.Add(l.interval)
	l.mu.Unlock()
	if d := slot.Sub(now); d > 0 && !sleepCtx(ctx, d) {
		return ctx.Err()
	}
	return nil
}
