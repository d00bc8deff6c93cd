package scan

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/porttop/porttop/internal/key"
)

var loopback4 = netip.MustParseAddr("127.0.0.1")

// testOptions are fast settings for loopback tests; names maps ports to
// services-table names for guesses.
func testOptions(ports []uint16, names map[uint16]string) Options {
	return Options{
		Ports:        ports,
		Timeout:      time.Second,
		ProbeTimeout: 300 * time.Millisecond,
		Concurrency:  16,
		ServiceName: func(_ key.Proto, p uint16) string {
			return names[p]
		},
	}
}

func find(t *testing.T, r *Result, proto key.Proto, port uint16) Port {
	t.Helper()
	for _, p := range r.Ports {
		if p.Port == port && p.Proto == proto {
			return p
		}
	}
	t.Fatalf("port %d/%s missing from result", port, proto)
	return Port{}
}

func TestScanIdentifiesServices(t *testing.T) {
	cert := selfSigned(t)
	type want struct {
		state   State
		service string
		guess   bool
		tls     string
		banner  string // substring
		detail  string // substring
	}
	ports := map[string]uint16{
		"ssh":       greeter(t, []byte("SSH-2.0-OpenSSH_9.6 porttop-test\r\n")),
		"smtp":      greeter(t, []byte("220 mail.example.org ESMTP Postfix\r\n")),
		"ftp":       greeter(t, []byte("220 (vsFTPd 3.0.5)\r\n")),
		"pop3":      greeter(t, []byte("+OK Dovecot ready.\r\n")),
		"imap":      greeter(t, []byte("* OK [CAPABILITY IMAP4rev1] ready\r\n")),
		"mysql":     greeter(t, mysqlHandshake("8.0.36-test")),
		"mysqlerr":  greeter(t, mysqlError(1130, "Host '10.0.0.1' is not allowed to connect")),
		"unknown":   greeter(t, []byte("hello there\x01\r\n")),
		"http":      httpServer(t, listenTCP(t, "tcp4", "127.0.0.1:0")),
		"https":     httpServer(t, tlsListener(t, cert, 0)),
		"imaps":     tlsGreeter(t, cert, "* OK IMAP over TLS\r\n"),
		"tls":       tlsSilent(t, cert),
		"redis":     redisLike(t, "+PONG\r\n"),
		"redisauth": redisLike(t, "-NOAUTH Authentication required.\r\n"),
		"postgres":  postgresLike(t),
		"silent":    silent(t),
		"closed":    closedPort(t),
	}
	wants := map[string]want{
		"ssh":       {Open, "ssh", false, "", "SSH-2.0-OpenSSH_9.6 porttop-test", "protocol 2.0; OpenSSH_9.6 porttop-test"},
		"smtp":      {Open, "smtp", false, "", "220 mail.example.org ESMTP Postfix", ""},
		"ftp":       {Open, "ftp", false, "", "vsFTPd", ""},
		"pop3":      {Open, "pop3", false, "", "+OK Dovecot", ""},
		"imap":      {Open, "imap", false, "", "* OK", ""},
		"mysql":     {Open, "mysql", false, "", "8.0.36-test", "version 8.0.36-test"},
		"mysqlerr":  {Open, "mysql", false, "", "", "error 1130: Host '10.0.0.1' is not allowed"},
		"unknown":   {Open, "weird", true, "", "hello there.", ""},
		"http":      {Open, "http", false, "", "HTTP/1.0 204 No Content", "server porttop-test/1.0"},
		"https":     {Open, "https", false, "TLS 1.3", "HTTP/1.0 204", "cert CN=porttop-test"},
		"imaps":     {Open, "imaps", false, "TLS 1.3", "* OK IMAP over TLS", "cert CN=porttop-test"},
		"tls":       {Open, "tls", false, "TLS 1.2", "", "cert CN=porttop-test"},
		"redis":     {Open, "redis", false, "", "+PONG", "PING answered"},
		"redisauth": {Open, "redis", false, "", "-NOAUTH", "authentication required"},
		"postgres":  {Open, "postgresql", false, "", "", "SSL not supported"},
		"silent":    {Open, "silentd", true, "", "", "no banner"},
		"closed":    {Closed, "", false, "", "", ""},
	}
	// The table names the TLS port "http", so the HTTP probe runs before
	// the TLS one there; "postgres" is named so its probe runs first.
	names := map[uint16]string{ports["unknown"]: "weird", ports["silent"]: "silentd",
		ports["https"]: "http", ports["postgres"]: "postgresql"}
	var list []uint16
	for _, p := range ports {
		list = append(list, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := Scan(ctx, "127.0.0.1", testOptions(list, names))
	if err != nil {
		t.Fatal(err)
	}
	if r.Address != loopback4 || r.Target != "127.0.0.1" {
		t.Errorf("address %v target %q", r.Address, r.Target)
	}
	for name, port := range ports {
		w := wants[name]
		got := find(t, r, key.TCP, port)
		if got.State != w.state || got.Service != w.service || got.Guess != w.guess || got.TLS != w.tls ||
			!strings.Contains(got.Banner, w.banner) || !strings.Contains(got.Detail, w.detail) {
			t.Errorf("%s (port %d): got %+v\nwant %+v", name, port, got, w)
		}
	}
	if got := find(t, r, key.TCP, ports["closed"]); got.Reason != "conn-refused" {
		t.Errorf("closed port reason %q, want conn-refused", got.Reason)
	}
	if r.Counts.Open != len(ports)-1 || r.Counts.Closed != 1 || r.Counts.Total() != len(ports) {
		t.Errorf("counts %+v", r.Counts)
	}
	if !slices.IsSortedFunc(r.Ports, func(a, b Port) int { return int(a.Port) - int(b.Port) }) {
		t.Error("ports not sorted")
	}
}

func TestScanIPv6(t *testing.T) {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ssh := serve(t, ln, func(c net.Conn) { _, _ = c.Write([]byte("SSH-2.0-v6\r\n")) })
	ln2, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := uint16(ln2.Addr().(*net.TCPAddr).Port)
	ln2.Close()
	r, err := Scan(context.Background(), "[::1]", testOptions([]uint16{ssh, closed}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if r.Address != netip.IPv6Loopback() {
		t.Errorf("address %v", r.Address)
	}
	if p := find(t, r, key.TCP, ssh); p.State != Open || p.Service != "ssh" {
		t.Errorf("ssh over v6: %+v", p)
	}
	if p := find(t, r, key.TCP, closed); p.State != Closed {
		t.Errorf("closed over v6: %+v", p)
	}
}

// TestQuickConnect checks the loopback fast path against a real open and
// a real closed port (on Linux; elsewhere it must decline).
func TestQuickConnect(t *testing.T) {
	open := silent(t)
	closed := closedPort(t)
	st, reason, ok := quickConnect(loopback4, closed)
	if !ok {
		t.Skip("fast path declined (not Linux, or the kernel deferred the answer)")
	}
	if st != Closed || reason != "conn-refused" {
		t.Errorf("closed: %v %q", st, reason)
	}
	st, reason, ok = quickConnect(loopback4, open)
	if ok && (st != Open || reason != "syn-ack") {
		t.Errorf("open: %v %q", st, reason)
	}
}

func TestScanUDP(t *testing.T) {
	dns := udpServer(t, dnsAnswer("9.18.99-porttop"))
	ntp := udpServer(t, ntpAnswer)
	mute := udpServer(t, func([]byte) []byte { return nil })
	odd := udpServer(t, func([]byte) []byte { return []byte("what?") })
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := uint16(pc.LocalAddr().(*net.UDPAddr).Port)
	pc.Close()

	o := testOptions([]uint16{}, map[uint16]string{ntp: "ntp", mute: "mutesvc"})
	o.UDPPorts = []uint16{dns, ntp, mute, closed, odd}
	r, err := Scan(context.Background(), "127.0.0.1", o)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		port    uint16
		state   State
		service string
		guess   bool
		detail  string
	}{
		{dns, Open, "domain", false, "rcode NOERROR; version.bind 9.18.99-porttop"},
		{ntp, Open, "ntp", false, "NTPv4, stratum 2"},
		{mute, OpenFiltered, "mutesvc", true, ""},
		{closed, Closed, "", false, ""},
		{odd, Open, "", false, "unrecognised 5-byte answer"},
	}
	for _, c := range checks {
		p := find(t, r, key.UDP, c.port)
		if p.State != c.state || p.Service != c.service || p.Guess != c.guess || !strings.Contains(p.Detail, c.detail) {
			t.Errorf("udp %d: got %+v, want state %v service %q guess %v detail %q", c.port, p, c.state, c.service, c.guess, c.detail)
		}
	}
	if r.Counts.Open != 3 || r.Counts.OpenFiltered != 1 || r.Counts.Closed != 1 {
		t.Errorf("counts %+v", r.Counts)
	}
}

func TestClassifyRealDialErrors(t *testing.T) {
	// A timed-out dial: a deadline already passed when the dial starts
	// gives the same error as a SYN that was never answered.
	open := silent(t)
	d := net.Dialer{Deadline: time.Now().Add(-time.Second)}
	_, err := d.Dial("tcp", netip.AddrPortFrom(loopback4, open).String())
	if err == nil {
		t.Fatal("dial with a past deadline succeeded")
	}
	if st, reason := Classify(err); st != Filtered || reason != "no-response" {
		t.Errorf("timeout %v: %v %q", err, st, reason)
	}
	// A refused dial.
	_, err = net.Dial("tcp", netip.AddrPortFrom(loopback4, closedPort(t)).String())
	if st, reason := Classify(err); st != Closed || reason != "conn-refused" {
		t.Errorf("refused %v: %v %q", err, st, reason)
	}
	// A context deadline.
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err = (&net.Dialer{}).DialContext(ctx, "tcp", netip.AddrPortFrom(loopback4, open).String())
	if st, _ := Classify(err); st != Filtered {
		t.Errorf("context deadline %v: %v", err, st)
	}
	if st, reason := Classify(nil); st != Open || reason != "syn-ack" {
		t.Errorf("nil: %v %q", st, reason)
	}
}

func TestClassifyErrno(t *testing.T) {
	wrap := func(e error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: e}}
	}
	cases := []struct {
		err    error
		state  State
		reason string
	}{
		{wrap(syscall.ECONNREFUSED), Closed, "conn-refused"},
		{wrap(syscall.ECONNRESET), Closed, "reset"},
		{wrap(syscall.EHOSTUNREACH), Filtered, "host-unreachable"},
		{wrap(syscall.ENETUNREACH), Filtered, "net-unreachable"},
		{wrap(syscall.EACCES), Filtered, "admin-prohibited"},
		{wrap(syscall.ETIMEDOUT), Filtered, "no-response"},
		{wrap(syscall.EMFILE), Unknown, "local-error: too many open files"},
		{errors.New("something else"), Unknown, "error: something else"},
	}
	for _, c := range cases {
		if st, reason := Classify(c.err); st != c.state || reason != c.reason {
			t.Errorf("%v: got %v %q, want %v %q", c.err, st, reason, c.state, c.reason)
		}
	}
}

func TestScanRateLimit(t *testing.T) {
	ports := make([]uint16, 0, 10)
	for range 10 {
		ports = append(ports, closedPort(t))
	}
	o := testOptions(ports, nil)
	o.Rate = 50 // 10 connects at 50/s: the last starts 180ms after the first
	start := time.Now()
	r, err := Scan(context.Background(), "127.0.0.1", o)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 170*time.Millisecond {
		t.Errorf("10 connects at 50/s took %v, want at least 180ms", el)
	}
	if r.Counts.Closed != 10 {
		t.Errorf("counts %+v", r.Counts)
	}
}

func TestScanCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := testOptions([]uint16{closedPort(t), closedPort(t)}, nil)
	r, err := Scan(ctx, "127.0.0.1", o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if r == nil || len(r.Ports) != 0 || r.Counts.Total() != 0 {
		t.Fatalf("result of a scan cancelled before it began: %+v", r)
	}
}

func TestScanProgress(t *testing.T) {
	var last Progress
	calls := 0
	o := testOptions([]uint16{closedPort(t), silent(t)}, nil)
	o.OnProgress = func(p Progress) { last = p; calls++ }
	if _, err := Scan(context.Background(), "127.0.0.1", o); err != nil {
		t.Fatal(err)
	}
	if calls == 0 || last.Done != 2 || last.Total != 2 || last.Open != 1 {
		t.Errorf("last progress %+v after %d calls", last, calls)
	}
}

func TestOptionsValidate(t *testing.T) {
	bad := []Options{
		{Timeout: -1},
		{ProbeTimeout: -1},
		{Concurrency: -1},
		{Concurrency: MaxConcurrency + 1},
		{Rate: -5},
		{Ports: []uint16{22, 0}},
		{UDPPorts: []uint16{0}},
	}
	for _, o := range bad {
		if o.Validate() == nil {
			t.Errorf("%+v: no error", o)
		}
		if _, err := Scan(context.Background(), "127.0.0.1", o); err == nil {
			t.Errorf("Scan %+v: no error", o)
		}
	}
	if err := (&Options{}).Validate(); err != nil {
		t.Errorf("zero options: %v", err)
	}
}

func TestResolve(t *testing.T) {
	cases := []struct {
		in   string
		want string
	}{
		{"127.0.0.1", "127.0.0.1"},
		{" 127.0.0.1 ", "127.0.0.1"},
		{"::1", "::1"},
		{"[::1]", "::1"},
		{"::ffff:127.0.0.1", "127.0.0.1"},
	}
	for _, c := range cases {
		got, err := Resolve(context.Background(), c.in)
		if err != nil || len(got) != 1 || got[0].String() != c.want {
			t.Errorf("Resolve(%q) = %v, %v; want %s", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "  ", "127.0.0.1:80", "10.0.0.0/8", "a b"} {
		if _, err := Resolve(context.Background(), in); err == nil {
			t.Errorf("Resolve(%q): no error", in)
		}
	}
	// localhost comes from /etc/hosts: no DNS traffic leaves the host.
	got, err := Resolve(context.Background(), "localhost")
	if err != nil {
		t.Skipf("localhost does not resolve here: %v", err)
	}
	if !got[0].IsLoopback() || (len(got) > 1 && got[0].Is6() && got[1].Is4()) {
		t.Errorf("localhost: %v (want loopback, IPv4 first)", got)
	}
}

func TestScanTargetError(t *testing.T) {
	_, err := Scan(context.Background(), "127.0.0.1:22", Options{})
	var te *TargetError
	if !errors.As(err, &te) {
		t.Fatalf("err %v (%T), want *TargetError", err, err)
	}
}

func TestTopPorts(t *testing.T) {
	ps := TopPorts()
	if len(ps) != 1000 {
		t.Fatalf("%d ports, want 1000", len(ps))
	}
	if !slices.Equal(ps[:5], []uint16{80, 23, 443, 21, 22}) {
		t.Errorf("first ports %v, want nmap's order 80 23 443 21 22", ps[:5])
	}
	seen := map[uint16]bool{}
	for _, p := range ps {
		if p == 0 || seen[p] {
			t.Fatalf("port %d is zero or repeated", p)
		}
		seen[p] = true
	}
	for _, p := range []uint16{22, 25, 3306, 5432, 8080, 8443} {
		if !seen[p] {
			t.Errorf("common port %d missing", p)
		}
	}
	ps[0] = 1
	if TopPorts()[0] != 80 {
		t.Error("TopPorts returned its own slice")
	}
	if _, err := parsePortLines(strings.NewReader("22\nx\n")); err == nil {
		t.Error("bad line accepted")
	}
}

func TestDedupe(t *testing.T) {
	if got := dedupe([]uint16{80, 22, 80, 1, 22}); !slices.Equal(got, []uint16{80, 22, 1}) {
		t.Errorf("dedupe = %v", got)
	}
}

func TestProbeOrder(t *testing.T) {
	names := func(order []int) []string {
		var out []string
		for _, i := range order {
			out = append(out, clientFirst[i].name)
		}
		return out
	}
	if got := names(probeOrder("")); !slices.Equal(got, []string{"tls", "http", "redis", "postgresql"}) {
		t.Errorf("default order %v", got)
	}
	if got := names(probeOrder("postgresql")); !slices.Equal(got, []string{"postgresql", "tls", "http", "redis"}) {
		t.Errorf("postgresql first: %v", got)
	}
}

func TestScanCancelledMidway(t *testing.T) {
	ports := make([]uint16, 0, 20)
	for range 20 {
		ports = append(ports, closedPort(t))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := testOptions(ports, nil)
	o.Rate = 40 // 20 ports take half a second; the first progress call comes at 100ms
	o.OnProgress = func(Progress) { cancel() }
	r, err := Scan(ctx, "127.0.0.1", o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if n := len(r.Ports); n == 0 || n >= len(ports) || r.Counts.Total() != n {
		t.Fatalf("%d ports in the partial result (counts %+v), want some but not all", n, r.Counts)
	}
	for _, p := range r.Ports {
		if p.State != Closed {
			t.Errorf("port %d in the partial result: %+v", p.Port, p)
		}
	}
}

func TestDefaults(t *testing.T) {
	if DefaultConcurrency(loopback4) != 1000 || DefaultConcurrency(netip.IPv6Loopback()) != 1000 ||
		DefaultConcurrency(netip.MustParseAddr("192.0.2.1")) != 256 {
		t.Error("default concurrency: 1000 on loopback, 256 elsewhere")
	}
	c := Options{}.withDefaults(loopback4)
	if len(c.Ports) != 1000 || c.Ports[0] != 80 || c.Timeout != DefaultTimeout || c.ProbeTimeout != 2*DefaultTimeout ||
		c.Concurrency < 1 || c.Concurrency > 1000 || c.ServiceName == nil || len(c.UDPPorts) != 0 {
		t.Errorf("defaults %+v", c)
	}
	if c.ServiceName(key.TCP, 22) != "ssh" {
		t.Errorf("built-in table: 22/tcp is %q", c.ServiceName(key.TCP, 22))
	}
	c = Options{Ports: []uint16{}, Timeout: time.Second, Concurrency: 5}.withDefaults(loopback4)
	if len(c.Ports) != 0 || c.ProbeTimeout != 2*time.Second || c.Concurrency != 5 {
		t.Errorf("explicit %+v", c)
	}
	if n := fileBudget(); n < 1 || n > MaxConcurrency {
		t.Errorf("file budget %d", n)
	}
}
