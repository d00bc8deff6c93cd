// Package scan is porttop's TCP connect scanner.
//
// A scan runs in two phases. The sweep connects to every port once with a
// fixed pool of workers (no goroutine per port) and sorts each into open
// (the connection was accepted), closed (refused: the host answered with a
// reset) or filtered (no answer before the timeout, or an ICMP
// unreachable). The identify phase then looks at each open port on fresh
// connections and names the service from what it says: first it waits
// briefly for a server-first greeting (SSH, SMTP, FTP, POP3, IMAP, MySQL,
// VNC), then tries client-first probes (TLS, HTTP, Redis, PostgreSQL). A port
// that identifies itself by none of them is named from the services table and
// marked as a guess. Optional UDP probes ask DNS and NTP questions.
//
// The package only decides and describes; report.go formats a Result as a
// table or JSON, and the command line lives in cmd/porttop.
//
// Speed: on Linux loopback a connect is answered inside the connect call,
// so the sweep reads the verdict straight off the socket (quick_linux.go)
// instead of waiting in the network poller. bench_nmap.sh times a
// full-range scan of 127.0.0.1 against `nmap -sT -p-`; the benchmarks in
// bench_test.go measure the per-port cost.
package scan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/services"
)

// State is the verdict on one port.
type State uint8

// The verdicts. Unknown is not a verdict on the target: a local error (out
// of file descriptors or local ports) kept the scanner from asking.
const (
	Unknown State = iota
	// Open: a TCP connection was accepted, or a UDP probe was answered.
	Open
	// Closed: the host refused (TCP reset, or ICMP port unreachable for UDP).
	Closed
	// Filtered: no answer before the timeout, or an ICMP unreachable other
	// than port unreachable.
	Filtered
	// OpenFiltered: a UDP probe got no answer. UDP services ignore questions
	// they do not understand, so silence does not tell open from filtered.
	OpenFiltered
)

var stateNames = [...]string{"unknown", "open", "closed", "filtered", "open|filtered"}

// String returns "open", "closed", "filtered", "open|filtered" or "unknown".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// MarshalText makes a State a JSON string.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Port is what the scan learned about one port.
type Port struct {
	Port  uint16
	Proto key.Proto
	State State
	// Reason says what the verdict rests on: "syn-ack", "conn-refused",
	// "no-response", "host-unreachable", "net-unreachable", "udp-response",
	// "port-unreachable", or "local-error: ..." for Unknown.
	Reason string
	// Service is the service name ("ssh", "https", "redis", ...); "" when
	// nothing is known.
	Service string
	// Guess is true when Service comes from the services table rather than
	// from what the port said.
	Guess bool
	// Banner is the first line the service sent, printable ASCII only,
	// at most 120 characters.
	Banner string
	// TLS is the negotiated TLS version ("TLS 1.3") when the port speaks TLS.
	TLS string
	// Detail is free text: HTTP status and Server header, software version,
	// certificate subject, DNS/NTP answer details.
	Detail string
}

// Counts tallies the verdicts of a scan.
type Counts struct {
	Open, Closed, Filtered, OpenFiltered, Unknown int
}

// Total is the number of ports counted.
func (c Counts) Total() int { return c.Open + c.Closed + c.Filtered + c.OpenFiltered + c.Unknown }

func (c *Counts) add(s State) {
	switch s {
	case Open:
		c.Open++
	case Closed:
		c.Closed++
	case Filtered:
		c.Filtered++
	case OpenFiltered:
		c.OpenFiltered++
	default:
		c.Unknown++
	}
}

// Result is a finished (or interrupted) scan.
type Result struct {
	// Target is the target as given.
	Target string
	// Addresses are all addresses the target resolved to; Address, the first,
	// is the one scanned.
	Addresses []netip.Addr
	Address   netip.Addr
	Started   time.Time
	Duration  time.Duration
	// Ports holds every scanned port, TCP then UDP, each in ascending order.
	Ports  []Port
	Counts Counts
}

// Progress is a snapshot of a running scan for a progress display.
type Progress struct {
	// Done and Total count connects of the sweep (TCP and UDP ports).
	Done, Total int
	// Open counts open ports found so far.
	Open    int
	Elapsed time.Duration
}

// Options configures a scan. The zero value scans the 1,000 most common TCP
// ports with the defaults below.
type Options struct {
	// Ports are the TCP ports to scan; nil means TopPorts(). An empty
	// non-nil slice scans no TCP port (for a UDP-only scan).
	Ports []uint16
	// UDPPorts are UDP ports to probe with DNS and NTP questions; nil: none.
	UDPPorts []uint16
	// Timeout bounds each connect; 0 means DefaultTimeout.
	Timeout time.Duration
	// ProbeTimeout bounds each wait for a banner or a probe's answer;
	// 0 means twice Timeout.
	ProbeTimeout time.Duration
	// Concurrency is the number of connects in flight; 0 means
	// DefaultConcurrency(address). It is lowered to fit the open-file limit.
	Concurrency int
	// Rate caps connects per second across all workers; 0 means no cap.
	Rate int
	// ServiceName names a port from a table, for guesses; nil means the
	// built-in table (services.Name).
	ServiceName func(p key.Proto, port uint16) string
	// OnProgress, if set, is called from one goroutine about ten times a
	// second during the sweep and once when the scan ends.
	OnProgress func(Progress)
}

// DefaultTimeout is the connect timeout when Options.Timeout is 0.
const DefaultTimeout = 500 * time.Millisecond

// MaxConcurrency is the highest accepted Options.Concurrency.
const MaxConcurrency = 65535

// DefaultConcurrency is the number of connects in flight when
// Options.Concurrency is 0: 1,000 on loopback, where a closed port refuses
// at once and a wide pool is what makes a full-range scan take seconds, and
// 256 elsewhere, to stay gentle with networks and stateful firewalls.
func DefaultConcurrency(addr netip.Addr) int {
	if addr.IsLoopback() {
		return 1000
	}
	return 256
}

// Validate reports the first bad setting in o, or nil.
func (o *Options) Validate() error {
	switch {
	case o.Timeout < 0:
		return fmt.Errorf("timeout %v is negative", o.Timeout)
	case o.ProbeTimeout < 0:
		return fmt.Errorf("probe timeout %v is negative", o.ProbeTimeout)
	case o.Concurrency < 0 || o.Concurrency > MaxConcurrency:
		return fmt.Errorf("concurrency %d out of range 1-%d", o.Concurrency, MaxConcurrency)
	case o.Rate < 0:
		return fmt.Errorf("rate %d is negative", o.Rate)
	}
	for _, p := range o.Ports {
		if p == 0 {
			return errors.New("tcp port 0 cannot be scanned")
		}
	}
	for _, p := range o.UDPPorts {
		if p == 0 {
			return errors.New("udp port 0 cannot be scanned")
		}
	}
	return nil
}

// Resolve turns a target into addresses: an IP literal (IPv4 or IPv6, with
// or without brackets) as is, a host name through one DNS lookup. IPv4
// addresses come first.
func Resolve(ctx context.Context, target string) ([]netip.Addr, error) {
	t := strings.TrimSpace(target)
	if t == "" {
		return nil, errors.New("empty target (want an IP address or host name)")
	}
	if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
		t = t[1 : len(t)-1]
	}
	if a, err := netip.ParseAddr(t); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	if strings.ContainsAny(t, "/: ") {
		return nil, fmt.Errorf("bad target %q (want an IP address or host name, no port or prefix)", target)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", t)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return nil, fmt.Errorf("cannot resolve target %q: no such host", target)
		}
		return nil, fmt.Errorf("cannot resolve target %q: %w", target, err)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("cannot resolve target %q: no addresses", target)
	}
	out := make([]netip.Addr, 0, len(ips))
	for _, a := range ips {
		a = a.Unmap()
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.SortStableFunc(out, func(a, b netip.Addr) int {
		switch {
		case a.Is4() && !b.Is4():
			return -1
		case !a.Is4() && b.Is4():
			return 1
		}
		return 0
	})
	return out, nil
}

// TargetError is Scan's error when the target is not an address and does
// not resolve: the user's input is at fault, not the scan.
type TargetError struct{ Err error }

// Error returns the resolution error's message.
func (e *TargetError) Error() string { return e.Err.Error() }

// Unwrap returns the resolution error.
func (e *TargetError) Unwrap() error { return e.Err }

// Scan resolves target once and scans its first address. When ctx is
// cancelled it stops early and returns, with ctx's error, a partial result
// that holds only the ports that got a verdict.
func Scan(ctx context.Context, target string, o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	addrs, err := Resolve(ctx, target)
	if err != nil {
		return nil, &TargetError{Err: err}
	}
	sni := ""
	if _, err := netip.ParseAddr(strings.Trim(strings.TrimSpace(target), "[]")); err != nil {
		sni = strings.TrimSpace(target)
	}
	r, err := scanAddr(ctx, addrs[0], sni, o)
	if r != nil {
		r.Target = target
		r.Addresses = addrs
	}
	return r, err
}

// ScanAddr scans one address. See Scan.
func ScanAddr(ctx context.Context, addr netip.Addr, o Options) (*Result, error) {
	return scanAddr(ctx, addr, "", o)
}

// scanAddr scans addr; serverName, when not "", is sent as TLS SNI.
func scanAddr(ctx context.Context, addr netip.Addr, serverName string, o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	cfg := o.withDefaults(addr)
	cfg.serverName = serverName
	start := time.Now()
	res := &Result{
		Target:    addr.String(),
		Addresses: []netip.Addr{addr},
		Address:   addr,
		Started:   start,
	}
	tcp := make([]Port, len(cfg.Ports))
	for i, p := range cfg.Ports {
		tcp[i] = Port{Port: p, Proto: key.TCP}
	}
	udp := make([]Port, len(cfg.UDPPorts))
	for i, p := range cfg.UDPPorts {
		udp[i] = Port{Port: p, Proto: key.UDP}
	}

	var prog progressCounter
	prog.total.Store(int64(len(tcp) + len(udp)))
	stopProgress := startProgress(cfg.OnProgress, &prog, start)

	s := &sweeper{addr: addr, cfg: &cfg, prog: &prog, quick: addr.IsLoopback()}
	if cfg.Rate > 0 {
		s.lim = newLimiter(cfg.Rate)
	}
	s.sweep(ctx, tcp)
	s.probeUDP(ctx, udp)
	stopProgress()

	id := &identifier{addr: addr, cfg: &cfg, lim: s.lim}
	id.identifyAll(ctx, tcp)

	slices.SortFunc(tcp, func(a, b Port) int { return int(a.Port) - int(b.Port) })
	slices.SortFunc(udp, func(a, b Port) int { return int(a.Port) - int(b.Port) })
	res.Ports = append(tcp, udp...)
	if ctx.Err() != nil {
		// Keep only the ports that got a verdict before the cancel.
		res.Ports = slices.DeleteFunc(res.Ports, func(p Port) bool {
			return p.Reason == "" || p.Reason == reasonInterrupted
		})
	}
	for _, p := range res.Ports {
		res.Counts.add(p.State)
	}
	res.Duration = time.Since(start)
	if cfg.OnProgress != nil {
		cfg.OnProgress(prog.snapshot(start))
	}
	return res, ctx.Err()
}

// config is Options with defaults filled in.
type config struct {
	Options
	serverName string // TLS SNI: the target's host name, "" for an IP literal
}

func (o Options) withDefaults(addr netip.Addr) config {
	c := config{Options: o}
	if c.Ports == nil {
		c.Ports = TopPorts()
	} else {
		c.Ports = dedupe(c.Ports)
	}
	c.UDPPorts = dedupe(c.UDPPorts)
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.ProbeTimeout == 0 {
		c.ProbeTimeout = 2 * c.Timeout
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency(addr)
	}
	c.Concurrency = min(c.Concurrency, fileBudget())
	if c.ServiceName == nil {
		c.ServiceName = services.Name
	}
	return c
}

// dedupe drops repeated ports, keeping the first of each.
func dedupe(ports []uint16) []uint16 {
	var seen [65536 / 64]uint64
	out := make([]uint16, 0, len(ports))
	for _, p := range ports {
		if seen[p/64]&(1<<(p%64)) != 0 {
			continue
		}
		seen[p/64] |= 1 << (p % 64)
		out = append(out, p)
	}
	return out
}

// progressCounter is updated by the workers and read by the progress
// reporter; it holds no lock.
type progressCounter struct {
	done, total, open atomic.Int64
}

func (p *progressCounter) snapshot(start time.Time) Progress {
	return Progress{
		Done:    int(p.done.Load()),
		Total:   int(p.total.Load()),
		Open:    int(p.open.Load()),
		Elapsed: time.Since(start),
	}
}

// startProgress calls fn every 100ms from one goroutine until the returned
// stop function is called; stop waits for the goroutine to end.
func startProgress(fn func(Progress), p *progressCounter, start time.Time) (stop func()) {
	if fn == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fn(p.snapshot(start))
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}
