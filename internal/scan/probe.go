package scan

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/porttop/porttop/internal/key"
)

// identifier runs the identify phase on the open TCP ports.
type identifier struct {
	addr netip.Addr
	cfg  *config
	lim  *limiter // the sweep's rate cap, shared; nil: none
}

// identifyWorkers bounds the ports identified at once. Each holds at most
// one connection at a time, and a silent port keeps its worker for a few
// probe timeouts, so a modest pool is enough.
const identifyWorkers = 64

// readLimit is the most bytes read from a greeting or a probe's answer.
const readLimit = 1024

func (id *identifier) identifyAll(ctx context.Context, ports []Port) {
	work := make(chan *Port)
	var wg sync.WaitGroup
	for range min(identifyWorkers, id.cfg.Concurrency) {
		wg.Go(func() {
			for p := range work {
				id.apply(p, id.identify(ctx, p.Port))
			}
		})
	}
	for i := range ports {
		if ports[i].State != Open || ctx.Err() != nil {
			continue
		}
		work <- &ports[i]
	}
	close(work)
	wg.Wait()
}

func (id *identifier) apply(p *Port, in ident) {
	p.Service, p.Guess, p.Banner, p.TLS, p.Detail = in.Service, in.Guess, in.Banner, in.TLS, in.Detail
}

// probe is a client-first probe: it writes a question on a fresh
// connection and judges the answer.
type probe struct {
	name string
	run  func(id *identifier, ctx context.Context, port uint16) (ident, bool)
}

// clientFirst lists the client-first probes in the order they are tried.
// TLS goes first: a plain server answers a ClientHello at once with an error
// or a close, while a TLS server given plain text might answer in ways that
// look like something else (a 400 page, an alert).
var clientFirst = [...]probe{
	{"tls", (*identifier).probeTLS},
	{"http", (*identifier).probeHTTP},
	{"redis", (*identifier).probeRedis},
	{"postgresql", (*identifier).probePostgres},
}

// identify names the service on an open port: a greeting first, then the
// client-first probes (the one the services table suggests first), then the
// services table as a guess.
func (id *identifier) identify(ctx context.Context, port uint16) ident {
	hint := id.cfg.ServiceName(key.TCP, port)
	guess := ident{Service: hint, Guess: hint != ""}

	greeting, closed, err := id.readGreeting(ctx, port)
	if err != nil {
		guess.Detail = "probe failed: " + errText(err)
		return guess
	}
	if len(greeting) > 0 {
		if in, ok := matchBanner(greeting, hint); ok {
			return in
		}
		guess.Banner = firstLine(greeting)
		return guess
	}
	if closed {
		// Accepted, then closed without a word: a TCP wrapper or an
		// access list in front of the service.
		guess.Detail = "closed by server without data"
		return guess
	}
	for _, i := range probeOrder(hint) {
		if ctx.Err() != nil {
			break
		}
		if in, ok := clientFirst[i].run(id, ctx, port); ok {
			if in.Service == "" { // TLS with an unknown protocol inside
				in.Service, in.Guess = hint, true
				if hint == "" {
					in.Service, in.Guess = "tls", false
				}
			}
			return in
		}
	}
	guess.Detail = "no banner; no probe answered"
	return guess
}

// probeOrder returns indexes into clientFirst, with the probe named like
// the hint moved to the front.
func probeOrder(hint string) []int {
	order := make([]int, 0, len(clientFirst))
	first := -1
	for i, p := range clientFirst {
		if p.name == hint {
			first = i
			order = append(order, i)
		}
	}
	for i := range clientFirst {
		if i != first {
			order = append(order, i)
		}
	}
	return order
}

func (id *identifier) dial(ctx context.Context, port uint16) (net.Conn, error) {
	if id.lim != nil {
		if err := id.lim.wait(ctx); err != nil {
			return nil, err
		}
	}
	d := net.Dialer{Timeout: id.cfg.Timeout}
	return d.DialContext(ctx, "tcp", netip.AddrPortFrom(id.addr, port).String())
}

// readGreeting connects and waits up to ProbeTimeout for the server to
// speak first. closed reports that the server hung up without data.
func (id *identifier) readGreeting(ctx context.Context, port uint16) (data []byte, closed bool, err error) {
	c, err := id.dial(ctx, port)
	if err != nil {
		return nil, false, err
	}
	defer c.Close()
	data, rerr := readAnswer(c, id.cfg.ProbeTimeout)
	if len(data) == 0 && rerr != nil && !isTimeout(rerr) {
		return nil, true, nil
	}
	return data, false, nil
}

// readAnswer reads what arrives within d, up to readLimit bytes; it stops
// at the first pause after data has come (one short grace period), so a
// chatty server does not hold it for the whole of d.
func readAnswer(c net.Conn, d time.Duration) ([]byte, error) {
	buf := make([]byte, readLimit)
	deadline := time.Now().Add(d)
	n := 0
	var err error
	for i := 0; i < 64 && n < len(buf); i++ { // 64 reads at most, however the peer trickles
		if err = c.SetReadDeadline(deadline); err != nil {
			break
		}
		var m int
		m, err = c.Read(buf[n:])
		n += m
		if err != nil {
			break
		}
		// After the first bytes, wait only briefly for the rest of the
		// message.
		if grace := time.Now().Add(50 * time.Millisecond); grace.Before(deadline) {
			deadline = grace
		}
	}
	if n > 0 && (isTimeout(err) || errors.Is(err, io.EOF)) {
		err = nil
	}
	return buf[:n], err
}

// ask writes q on a fresh connection and returns the answer.
func (id *identifier) ask(ctx context.Context, port uint16, q []byte) ([]byte, error) {
	c, err := id.dial(ctx, port)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.SetWriteDeadline(time.Now().Add(id.cfg.ProbeTimeout)); err != nil {
		return nil, err
	}
	if _, err := c.Write(q); err != nil {
		return nil, err
	}
	return readAnswer(c, id.cfg.ProbeTimeout)
}

// httpRequest is the HTTP probe: HEAD / over HTTP/1.0, so the server closes
// after the head.
func (id *identifier) httpRequest() []byte {
	host := id.addr.String()
	if id.addr.Is6() {
		host = "[" + host + "]"
	}
	return []byte("HEAD / HTTP/1.0\r\nHost: " + host + "\r\nUser-Agent: porttop-scan\r\nAccept: */*\r\n\r\n")
}

func (id *identifier) probeHTTP(ctx context.Context, port uint16) (ident, bool) {
	b, _ := id.ask(ctx, port, id.httpRequest())
	r, ok := parseHTTP(b)
	if !ok {
		return ident{}, false
	}
	if r.PlainToTLS {
		// The port speaks TLS. The TLS probe runs first unless the table
		// suggested HTTP; give it its turn for the version and certificate.
		if in, ok := id.probeTLS(ctx, port); ok && in.Service == "https" {
			return in, true
		}
		return ident{Service: "https", Banner: r.Status, Detail: "plain HTTP rejected: " + r.detail()}, true
	}
	return ident{Service: "http", Banner: r.Status, Detail: r.detail()}, true
}

// redisPing is PING in the Redis protocol (RESP).
var redisPing = []byte("*1\r\n$4\r\nPING\r\n")

func (id *identifier) probeRedis(ctx context.Context, port uint16) (ident, bool) {
	b, _ := id.ask(ctx, port, redisPing)
	d, ok := parseRedis(b)
	if !ok {
		return ident{}, false
	}
	return ident{Service: "redis", Banner: firstLine(b), Detail: d}, true
}

// pgSSLRequest is PostgreSQL's SSLRequest: length 8, code 80877103.
var pgSSLRequest = []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}

func (id *identifier) probePostgres(ctx context.Context, port uint16) (ident, bool) {
	b, _ := id.ask(ctx, port, pgSSLRequest)
	d, ok := parsePostgres(b)
	if !ok {
		return ident{}, false
	}
	return ident{Service: "postgresql", Detail: d}, true
}

// tlsSuffix names a protocol spoken inside TLS after the greeting it sent.
var tlsSuffix = map[string]string{"imap": "imaps", "pop3": "pop3s", "smtp": "smtps", "ftp": "ftps"}

// probeTLS completes a TLS handshake (certificates are not checked: the
// scanner wants to know what is there, not whether to trust it), then asks
// an HTTP question inside; a greeting or an HTTP answer names the inner
// protocol.
func (id *identifier) probeTLS(ctx context.Context, port uint16) (ident, bool) {
	raw, err := id.dial(ctx, port)
	if err != nil {
		return ident{}, false
	}
	defer raw.Close()
	c := tls.Client(raw, &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // identification only; nothing is sent that needs trust.
		MinVersion:         tls.VersionTLS10,
		NextProtos:         []string{"http/1.1"},
		ServerName:         id.cfg.serverName,
	})
	hctx, cancel := context.WithTimeout(ctx, id.cfg.ProbeTimeout)
	defer cancel()
	if err := c.HandshakeContext(hctx); err != nil {
		return ident{}, false
	}
	st := c.ConnectionState()
	in := ident{TLS: tls.VersionName(st.Version)}
	var certInfo string
	if len(st.PeerCertificates) > 0 {
		if cn := st.PeerCertificates[0].Subject.CommonName; cn != "" {
			certInfo = "cert CN=" + firstLine([]byte(cn))
		}
	}
	if err := c.SetWriteDeadline(time.Now().Add(id.cfg.ProbeTimeout)); err == nil {
		_, _ = c.Write(id.httpRequest())
	}
	b, _ := readAnswer(c, id.cfg.ProbeTimeout)
	if r, ok := parseHTTP(b); ok {
		in.Service, in.Banner, in.Detail = "https", r.Status, joinDetail(r.detail(), certInfo)
		return in, true
	}
	if g, ok := matchBanner(b, ""); ok {
		in.Service, in.Banner = g.Service, g.Banner
		if s, ok := tlsSuffix[g.Service]; ok {
			in.Service = s
		}
		in.Detail = joinDetail(g.Detail, certInfo)
		return in, true
	}
	if len(b) > 0 {
		in.Banner = firstLine(b)
	}
	in.Detail = certInfo
	return in, true // Service filled from the table by identify.
}

func joinDetail(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}
