package main

// benchcmp live: CPU per packet, peak memory and kernel drops of live
// capture on lo, porttop against tcpdump and iftop on the same traffic.
//
// For each tool and load the sequence is: start the tool on lo, let it
// settle (-warmup), read its CPU time (/proc/PID/stat utime+stime, all
// threads) and lo's kernel rx_packets, run the bounded load generator for
// -t, wait -settle for the tool to drain its buffer, read both again and
// the tool's VmHWM, then stop the tool with SIGINT and read its drop count.
// CPU per packet = CPU in that window / lo packets in that window.
//
// By default everything (tools and traffic) runs in a private network
// namespace (unshare -n) whose lo carries nothing but the generated
// traffic; -netns=false uses the host's lo, where other programs' traffic
// is counted too. lo's counters are read from /proc/self/net/dev, which,
// unlike /sys/class/net, follows the reader's network namespace.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type liveConfig struct {
	porttop  string
	ptArgs   []string
	rates    []int
	ports    int
	dur      time.Duration
	payload  int
	tcp      int
	tcpMBps  int
	runs     int
	tools    []string
	memPorts int
	memRate  int
	idle     time.Duration
	warmup   time.Duration
	settle   time.Duration
	what     map[string]bool
	verbose  bool
}

// clkTck is USER_HZ, the unit of utime/stime in /proc/PID/stat: 100 on
// every Linux architecture Go supports.
const clkTck = 100

const netnsEnv = "BENCHCMP_IN_NETNS"

func live(args []string) error {
	fs := flag.NewFlagSet("live", flag.ContinueOnError)
	porttop := fs.String("porttop", "bin/porttop", "porttop binary")
	ptArgs := fs.String("porttop-args", "", "extra porttop flags, space-separated (e.g. \"--buffer 2\")")
	rates := fs.String("rates", "20000,100000,300000", "UDP load: datagrams per second, comma-separated (one load per rate)")
	ports := fs.Int("ports", 16, "UDP load: distinct destination ports on 127.0.0.1")
	dur := fs.Duration("t", 10*time.Second, "duration of each load")
	payload := fs.Int("payload", 64, "UDP payload bytes")
	tcp := fs.Int("tcp", 2, "TCP bulk load: flows (0 = no TCP load)")
	tcpMBps := fs.Int("tcp-mbps", 400, "TCP bulk load: total MB/s cap (0 = as fast as it goes)")
	runs := fs.Int("runs", 3, "runs of each tool under each load")
	tools := fs.String("tools", "porttop,porttop-pcap,tcpdump,iftop", "tools to measure: porttop (engine auto), porttop-pcap, porttop-afpacket, tcpdump, iftop")
	memPorts := fs.Int("mem-ports", 1000, "memory test: distinct UDP ports")
	memRate := fs.Int("mem-rate", 20000, "memory test: datagrams per second")
	idle := fs.Duration("idle", 30*time.Second, "idle test: how long porttop runs with no generated traffic")
	warmup := fs.Duration("warmup", 1500*time.Millisecond, "time a tool gets to start before measuring")
	settle := fs.Duration("settle", 300*time.Millisecond, "time a tool gets to drain its buffer after the load")
	what := fs.String("what", "load,mem,idle", "measurements: load, mem, idle, tui (the dashboard idle in tmux)")
	netns := fs.Bool("netns", true, "run in a private network namespace (needs unshare and CAP_SYS_ADMIN)")
	verbose := fs.Bool("v", false, "print each run as it finishes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *netns && os.Getenv(netnsEnv) == "" {
		return reexecInNetns(args)
	}
	if os.Getenv(netnsEnv) != "" {
		if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
			return fmt.Errorf("ip link set lo up: %v: %s", err, out)
		}
	}
	c := liveConfig{
		porttop: *porttop, ptArgs: strings.Fields(*ptArgs), ports: *ports, dur: *dur, payload: *payload, tcp: *tcp, tcpMBps: *tcpMBps,
		runs: *runs, memPorts: *memPorts, memRate: *memRate, idle: *idle, warmup: *warmup,
		settle: *settle, what: map[string]bool{}, verbose: *verbose,
	}
	for _, s := range strings.Split(*rates, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || r <= 0 {
			return fmt.Errorf("bad -rates %q", *rates)
		}
		c.rates = append(c.rates, r)
	}
	for _, s := range strings.Split(*tools, ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.tools = append(c.tools, s)
		}
	}
	for _, s := range strings.Split(*what, ",") {
		c.what[strings.TrimSpace(s)] = true
	}
	if c.runs < 1 || c.dur <= 0 || c.dur > 5*time.Minute || c.idle > 10*time.Minute {
		return errors.New("bad -runs or -t (1 s to 5 min) or -idle (up to 10 min)")
	}
	if slices.Max(c.rates) > 2_000_000 {
		return errors.New("-rates above 2,000,000 datagrams/s are not allowed")
	}
	return c.run(*netns)
}

// reexecInNetns runs this same command again inside a new network
// namespace.
func reexecInNetns(args []string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command("unshare", append([]string{"-n", "--", self, "live"}, args...)...)
	cmd.Env = append(os.Environ(), netnsEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("in a private network namespace (use -netns=false to measure on the host's lo): %w", err)
	}
	return nil
}

// ---- load generation ----

// load describes a bounded loopback load.
type load struct {
	name    string
	rate    int // UDP datagrams/s (0: none)
	ports   int
	payload int
	tcp     int // TCP bulk flows (0: none)
	tcpMBps int
	dur     time.Duration
}

func (l load) String() string {
	var parts []string
	if l.rate > 0 {
		parts = append(parts, fmt.Sprintf("UDP %d/s to %d ports, %d B payload", l.rate, l.ports, l.payload))
	}
	if l.tcp > 0 {
		cap := "unpaced"
		if l.tcpMBps > 0 {
			cap = fmt.Sprintf("<= %d MB/s", l.tcpMBps)
		}
		parts = append(parts, fmt.Sprintf("TCP bulk %d flows %s", l.tcp, cap))
	}
	if len(parts) == 0 {
		parts = append(parts, "no generated traffic")
	}
	return strings.Join(parts, " + ") + fmt.Sprintf(", %v", l.dur)
}

// sinks are the UDP sockets the load is sent to, bound once and reused so
// every tool sees the same destination ports. They are never read: the
// kernel drops what overflows their buffers after lo has counted it, and
// an open socket means no ICMP port-unreachable replies.
type sinks struct {
	conns []*net.UDPConn
	addrs []netip.AddrPort
}

// sinkBase is the first sink's port. The sinks sit below the ephemeral
// range, where porttop takes a bound UDP socket for a service (ephemeral
// ones are clients' sockets), so that each sink is a row of its own; with
// ephemeral ports, every sink above the sender's port would be counted
// under the sender's. A port that is taken falls back to an ephemeral one.
const sinkBase = 20000

func openSinks(n int) (*sinks, error) {
	s := &sinks{}
	for i := 0; i < n; i++ {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sinkBase + i})
		if err != nil {
			c, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		}
		if err != nil {
			s.close()
			return nil, fmt.Errorf("binding UDP sink %d of %d: %w", i+1, n, err)
		}
		_ = c.SetReadBuffer(4096)
		s.conns = append(s.conns, c)
		s.addrs = append(s.addrs, c.LocalAddr().(*net.UDPAddr).AddrPort())
	}
	return s, nil
}

func (s *sinks) close() {
	for _, c := range s.conns {
		c.Close()
	}
}

// genResult is what the generator sent.
type genResult struct {
	udp      uint64
	tcpBytes uint64
	elapsed  time.Duration
}

// generate runs l for l.dur; it is bounded in time, and in count by
// rate × duration.
func generate(l load, dst *sinks) (genResult, error) {
	var res genResult
	deadline := time.Now().Add(l.dur)
	var wg sync.WaitGroup
	var tcpBytes atomic.Uint64
	var tcpErr error
	if l.tcp > 0 {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return res, err
		}
		var accepted sync.WaitGroup
		defer func() {
			ln.Close() // ends the accept loop, also when a dial failed
			accepted.Wait()
		}()
		accepted.Add(1)
		go func() {
			defer accepted.Done()
			for i := 0; i < l.tcp; i++ {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					_, _ = io.Copy(io.Discard, c)
				}()
			}
		}()
		perFlow := 0.0
		if l.tcpMBps > 0 {
			perFlow = float64(l.tcpMBps) * 1e6 / float64(l.tcp)
		}
		for i := 0; i < l.tcp; i++ {
			c, err := net.Dial("tcp4", ln.Addr().String())
			if err != nil {
				tcpErr = err
				break
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				buf := make([]byte, 256<<10)
				start := time.Now()
				var sent uint64
				for time.Now().Before(deadline) {
					if perFlow > 0 && float64(sent) > perFlow*time.Since(start).Seconds() {
						time.Sleep(time.Millisecond)
						continue
					}
					_ = c.SetWriteDeadline(deadline)
					n, err := c.Write(buf)
					sent += uint64(n)
					tcpBytes.Add(uint64(n))
					if err != nil {
						return
					}
				}
			}()
		}
	}
	start := time.Now()
	if l.rate > 0 {
		// One sender per 100,000 datagrams/s (at most 4), each with its
		// own socket and its share of the rate.
		senders := min(4, (l.rate+99_999)/100_000)
		var udp atomic.Uint64
		var swg sync.WaitGroup
		for i := 0; i < senders; i++ {
			src, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				return res, err
			}
			swg.Add(1)
			go func(i int) {
				defer swg.Done()
				defer src.Close()
				udp.Add(sendUDP(src, dst.addrs, i, senders, float64(l.rate)/float64(senders), l.payload, start, deadline))
			}(i)
		}
		swg.Wait()
		res.udp = udp.Load()
	} else {
		time.Sleep(time.Until(deadline))
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.tcpBytes = tcpBytes.Load()
	return res, tcpErr
}

// sendUDP sends datagrams from src at rate per second until deadline,
// cycling over the destinations i, i+stride, ...; it returns how many it
// sent.
func sendUDP(src *net.UDPConn, dst []netip.AddrPort, i, stride int, rate float64, payload int, start, deadline time.Time) uint64 {
	_ = src.SetWriteBuffer(4 << 20)
	msg := make([]byte, payload)
	var sent uint64
	next := i % len(dst)
	for {
		now := time.Now()
		if !now.Before(deadline) {
			return sent
		}
		due := uint64(rate * now.Sub(start).Seconds())
		if sent >= due {
			time.Sleep(200 * time.Microsecond)
			continue
		}
		for k := 0; sent < due && k < 256; k++ {
			if _, err := src.WriteToUDPAddrPort(msg, dst[next]); err != nil {
				break // ENOBUFS and the like: try again later
			}
			sent++
			next = (next + stride) % len(dst)
		}
	}
}

// ---- process measurement ----

// loRx is lo's received packets, from /proc/self/net/dev (this network
// namespace's counters; each loopback packet is counted once as received).
func loRx() (uint64, error) {
	b, err := os.ReadFile("/proc/self/net/dev")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) != "lo" {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 2 {
			break
		}
		return strconv.ParseUint(f[1], 10, 64)
	}
	return 0, errors.New("lo not found in /proc/self/net/dev")
}

// procCPU is the process's CPU time so far. It sums the threads'
// sum_exec_runtime from /proc/PID/task/*/schedstat (nanoseconds), and
// takes utime+stime from /proc/PID/stat (10 ms ticks, but counting
// threads that have exited) when that is larger by more than a tick.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("bad /proc/PID/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc/PID/stat")
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad utime/stime in /proc/PID/stat")
	}
	ticks := time.Duration(ut+st) * time.Second / clkTck
	var sched time.Duration
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			v, _ := strconv.ParseInt(f[0], 10, 64)
			sched += time.Duration(v)
		}
	}
	if ticks > sched+time.Second/clkTck {
		return ticks, nil
	}
	return sched, nil
}

// procHWM is the process's peak resident set (VmHWM) in KiB.
func procHWM(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmHWM")
}

// syncBuf is a bytes.Buffer safe for a writer goroutine and a reader.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tool is one capture program under test.
type tool struct {
	name  string
	argv  []string
	drops func(stdout, stderr string) (drops, captured, rows int64) // -1: unknown
	// waitReport: wait for the next line on stdout before stopping it.
	waitReport bool
}

func (c *liveConfig) tool(name string, dur time.Duration) (tool, error) {
	pt := func(extra ...string) tool {
		argv := append([]string{c.porttop, "-i", "lo", "-b", "-o", "json", "-d", "1s"}, c.ptArgs...)
		argv = append(argv, extra...)
		return tool{name: strings.Join(argv[1:], " "), argv: argv, drops: porttopDrops, waitReport: true}
	}
	switch name {
	case "porttop":
		t := pt()
		t.name = strings.TrimSpace("porttop (auto=afpacket) " + strings.Join(c.ptArgs, " "))
		return t, nil
	case "porttop-pcap":
		t := pt("--engine", "pcap")
		t.name = strings.TrimSpace("porttop --engine pcap " + strings.Join(c.ptArgs, " "))
		return t, nil
	case "porttop-afpacket":
		t := pt("--engine", "afpacket")
		t.name = strings.TrimSpace("porttop --engine afpacket " + strings.Join(c.ptArgs, " "))
		return t, nil
	case "tcpdump":
		return tool{name: "tcpdump -s 128 -w /dev/null", argv: []string{"tcpdump", "-i", "lo", "-s", "128", "-w", "/dev/null"}, drops: tcpdumpDrops}, nil
	case "iftop":
		secs := int((c.warmup + dur + c.settle).Seconds()) + 5
		return tool{name: "iftop -t -n -N -P", argv: []string{"iftop", "-i", "lo", "-t", "-s", strconv.Itoa(secs), "-n", "-N", "-P"},
			drops: func(string, string) (int64, int64, int64) { return -1, -1, -1 }}, nil
	}
	return tool{}, fmt.Errorf("unknown tool %q", name)
}

var tcpdumpRE = regexp.MustCompile(`(\d+) packets? (captured|dropped by kernel)`)

func tcpdumpDrops(_, stderr string) (drops, captured, rows int64) {
	drops, captured, rows = -1, -1, -1
	for _, m := range tcpdumpRE.FindAllStringSubmatch(stderr, -1) {
		v, _ := strconv.ParseInt(m[1], 10, 64)
		if m[2] == "captured" {
			captured = v
		} else {
			drops = v
		}
	}
	return drops, captured, rows
}

// porttopDrops reads lo's cumulative dropped and captured packets, and the
// number of rows, from porttop's last JSON report.
func porttopDrops(stdout, _ string) (drops, captured, rows int64) {
	drops, captured, rows = -1, -1, -1
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var r struct {
			Interfaces []struct {
				Name     string `json:"name"`
				Dropped  int64  `json:"dropped_packets"`
				IfDrop   int64  `json:"if_dropped"`
				Captured int64  `json:"captured_packets"`
			} `json:"interfaces"`
			Ports []json.RawMessage `json:"ports"`
		}
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			continue
		}
		for _, i := range r.Interfaces {
			if i.Name == "lo" {
				drops, captured = i.Dropped+i.IfDrop, i.Captured
			}
		}
		rows = int64(len(r.Ports))
	}
	return drops, captured, rows
}

// measurement is one tool under one load.
type measurement struct {
	tool, load string
	cpu        time.Duration
	window     time.Duration
	loPkts     uint64
	gen        genResult
	hwmKiB     int64
	drops      int64
	captured   int64
	rows       int64
	err        error
}

func (m measurement) nsPerPkt() float64 {
	if m.loPkts == 0 {
		return 0
	}
	return float64(m.cpu.Nanoseconds()) / float64(m.loPkts)
}

func (m measurement) cpuPct() float64 {
	return 100 * m.cpu.Seconds() / m.window.Seconds()
}

// measure runs t under l once.
func (c *liveConfig) measure(t tool, l load, dst *sinks) measurement {
	m := measurement{tool: t.name, load: l.name, drops: -1, captured: -1}
	cmd := exec.Command(t.argv[0], t.argv[1:]...)
	var stdout, stderr syncBuf
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		m.err = err
		return m
	}
	pid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	fail := func(err error) measurement {
		stop()
		m.err = fmt.Errorf("%w (stderr: %s)", err, firstLine(stderr.String()))
		return m
	}
	select {
	case err := <-done:
		m.err = fmt.Errorf("exited early: %v: %s", err, firstLine(stderr.String()))
		return m
	case <-time.After(c.warmup):
	}
	cpu0, err := procCPU(pid)
	if err != nil {
		return fail(err)
	}
	lo0, err := loRx()
	if err != nil {
		return fail(err)
	}
	t0 := time.Now()
	m.gen, err = generate(l, dst)
	if err != nil {
		return fail(err)
	}
	time.Sleep(c.settle)
	cpu1, err := procCPU(pid)
	if err != nil {
		return fail(err)
	}
	lo1, _ := loRx()
	m.window = time.Since(t0)
	m.hwmKiB, _ = procHWM(pid)
	m.cpu, m.loPkts = cpu1-cpu0, lo1-lo0
	if t.waitReport {
		// porttop prints nothing at exit: wait for the report after the
		// window so its cumulative counters include every packet.
		lines := strings.Count(stdout.String(), "\n")
		for end := time.Now().Add(2500 * time.Millisecond); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if strings.Count(stdout.String(), "\n") > lines {
				break
			}
		}
	}
	stop()
	m.drops, m.captured, m.rows = t.drops(stdout.String(), stderr.String())
	return m
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func (c *liveConfig) run(netns bool) error {
	where := "the host's lo (other programs' traffic counts too)"
	if os.Getenv(netnsEnv) != "" {
		where = "lo of a private network namespace (only the generated traffic)"
	}
	fmt.Printf("benchcmp live: %s; %d runs each; load average at start %s\n", where, c.runs, loadAvg())
	fmt.Println("cpu ns/pkt = tool's CPU time in the window (all threads, /proc/PID/task/*/schedstat) / lo rx_packets in the window (/proc/self/net/dev)")
	fmt.Println()
	var loads []load
	if c.what["load"] {
		for _, r := range c.rates {
			loads = append(loads, load{name: fmt.Sprintf("udp %d/s", r), rate: r, ports: c.ports, payload: c.payload, dur: c.dur})
		}
		if c.tcp > 0 {
			loads = append(loads, load{name: fmt.Sprintf("tcp bulk x%d", c.tcp), tcp: c.tcp, tcpMBps: c.tcpMBps, dur: c.dur})
		}
	}
	maxPorts := c.ports
	if c.what["mem"] {
		maxPorts = max(maxPorts, c.memPorts)
	}
	dst, err := openSinks(maxPorts)
	if err != nil {
		return err
	}
	defer dst.close()
	small := &sinks{conns: dst.conns[:c.ports], addrs: dst.addrs[:c.ports]}

	var all []measurement
	for _, l := range loads {
		fmt.Printf("load %-16s %s\n", l.name+":", l)
		for run := 0; run < c.runs; run++ {
			for _, name := range c.tools {
				t, err := c.tool(name, l.dur)
				if err != nil {
					return err
				}
				if _, err := exec.LookPath(t.argv[0]); err != nil {
					fmt.Printf("  %s: not installed, skipped (apt-get install %s)\n", t.argv[0], t.argv[0])
					continue
				}
				m := c.measure(t, l, small)
				all = append(all, m)
				if c.verbose || m.err != nil {
					printRun(m)
				}
			}
		}
	}
	if len(loads) > 0 {
		fmt.Println()
		printLoadTable(all, loads)
	}
	if c.what["mem"] {
		l := load{name: fmt.Sprintf("%d ports", c.memPorts), rate: c.memRate, ports: c.memPorts, payload: c.payload, dur: c.dur}
		fmt.Printf("\nmemory: %s; load average %s\n", l, loadAvg())
		fmt.Printf("  %-28s %8s %12s %10s %8s\n", "tool", "rows", "VmHWM", "cpu ns/pkt", "drops")
		for _, name := range c.porttops() {
			t, _ := c.tool(name, l.dur)
			for run := 0; run < c.runs; run++ {
				m := c.measure(t, l, dst)
				if m.err != nil {
					printRun(m)
					continue
				}
				fmt.Printf("  %-28s %8d %8.1f MiB %10.0f %8d   (target < 30 MiB)\n", t.name, m.rows, float64(m.hwmKiB)/1024, m.nsPerPkt(), m.drops)
			}
		}
	}
	if c.what["idle"] {
		l := load{name: "idle", dur: c.idle}
		fmt.Printf("\nidle: porttop -i lo -b -o json -d 1s for %v with no generated traffic; load average %s\n", c.idle, loadAvg())
		for _, name := range c.porttops() {
			t, _ := c.tool(name, l.dur)
			for run := 0; run < c.runs; run++ {
				m := c.measure(t, l, dst)
				if m.err != nil {
					printRun(m)
					continue
				}
				fmt.Printf("  %-28s cpu %6v over %5.1f s = %5.2f%% of a core, lo packets %d, VmHWM %.1f MiB   (target < 1%%)\n",
					t.name, m.cpu, m.window.Seconds(), m.cpuPct(), m.loPkts, float64(m.hwmKiB)/1024)
			}
		}
	}
	if c.what["tui"] {
		fmt.Printf("\ntui: porttop -i lo (dashboard, 1 s refresh) in a 200x50 tmux pane for %v with no generated traffic; load average %s\n", c.idle, loadAvg())
		for run := 0; run < c.runs; run++ {
			if err := c.tuiIdle(run); err != nil {
				fmt.Println("  tui:", err)
				break
			}
		}
	}
	fmt.Printf("\nload average at end %s\n", loadAvg())
	return nil
}

// tuiIdle runs the dashboard in a detached tmux session and measures its
// CPU, peak memory and bytes written (wchar, which is what it sends to the
// terminal) over c.idle.
func (c *liveConfig) tuiIdle(run int) error {
	if _, err := exec.LookPath("tmux"); err != nil {
		return errors.New("tmux not installed (apt-get install tmux)")
	}
	session := fmt.Sprintf("benchcmp-tui-%d-%d", os.Getpid(), run)
	// A private server (-L), so the pane runs in this process's network
	// namespace and other tmux users are not touched.
	out, err := exec.Command("tmux", "-L", session, "-f", "/dev/null", "new-session", "-d", "-s", session, "-x", "200", "-y", "50", "-P", "-F", "#{pane_pid}",
		"--", c.porttop, "-i", "lo", "-d", "1s").Output()
	if err != nil {
		return fmt.Errorf("tmux new-session: %w", err)
	}
	defer exec.Command("tmux", "-L", session, "kill-server").Run()
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		return fmt.Errorf("tmux pane pid %q", out)
	}
	time.Sleep(c.warmup + time.Second)
	cpu0, err := procCPU(pid)
	if err != nil {
		return fmt.Errorf("porttop in tmux: %w", err)
	}
	w0, _ := procWchar(pid)
	lo0, _ := loRx()
	t0 := time.Now()
	time.Sleep(c.idle)
	cpu1, err := procCPU(pid)
	if err != nil {
		return fmt.Errorf("porttop in tmux: %w", err)
	}
	w1, _ := procWchar(pid)
	lo1, _ := loRx()
	win := time.Since(t0)
	hwm, _ := procHWM(pid)
	screen, _ := exec.Command("tmux", "-L", session, "capture-pane", "-p", "-t", session).Output()
	fmt.Printf("  screen's first line: %q\n", firstLine(string(screen)))
	fmt.Printf("  %-28s cpu %6v over %5.1f s = %5.2f%% of a core, %.0f bytes written per second, lo packets %d, VmHWM %.1f MiB   (target < 1%%)\n",
		"porttop -i lo (dashboard)", (cpu1 - cpu0).Round(time.Millisecond), win.Seconds(), 100*(cpu1-cpu0).Seconds()/win.Seconds(),
		float64(w1-w0)/win.Seconds(), lo1-lo0, float64(hwm)/1024)
	return nil
}

// procWchar is the bytes the process has written (/proc/PID/io wchar).
func procWchar(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, errors.New("no wchar")
}

// porttops are the porttop variants among -tools (the memory and idle
// tests measure porttop only).
func (c *liveConfig) porttops() []string {
	var out []string
	for _, t := range c.tools {
		if strings.HasPrefix(t, "porttop") {
			out = append(out, t)
		}
	}
	return out
}

func printRun(m measurement) {
	if m.err != nil {
		fmt.Printf("  %-28s %-16s error: %v\n", m.tool, m.load, m.err)
		return
	}
	fmt.Printf("  %-28s %-16s cpu %-8v lo pkts %-9d %6.0f ns/pkt  VmHWM %6.1f MiB  drops %d  captured %d  sent udp %d tcp %.0f MB in %v\n",
		m.tool, m.load, m.cpu, m.loPkts, m.nsPerPkt(), float64(m.hwmKiB)/1024, m.drops, m.captured,
		m.gen.udp, float64(m.gen.tcpBytes)/1e6, m.gen.elapsed.Round(time.Millisecond))
}

// printLoadTable prints, per load and tool, the range over runs of CPU per
// packet, CPU share, peak RSS and drops.
func printLoadTable(all []measurement, loads []load) {
	fmt.Printf("%-16s %-28s %10s %17s %12s %13s %14s %15s\n",
		"load", "tool", "lo pkts/s", "cpu ns/pkt", "cpu % core", "VmHWM MiB", "kernel drops", "captured/lo")
	for _, l := range loads {
		var names []string
		byTool := map[string][]measurement{}
		for _, m := range all {
			if m.load != l.name || m.err != nil {
				continue
			}
			if _, ok := byTool[m.tool]; !ok {
				names = append(names, m.tool)
			}
			byTool[m.tool] = append(byTool[m.tool], m)
		}
		for _, name := range names {
			ms := byTool[name]
			var ns, pct, hwm, rate, drops, cov []float64
			for _, m := range ms {
				ns = append(ns, m.nsPerPkt())
				pct = append(pct, m.cpuPct())
				hwm = append(hwm, float64(m.hwmKiB)/1024)
				rate = append(rate, float64(m.loPkts)/m.window.Seconds())
				if m.drops >= 0 {
					drops = append(drops, float64(m.drops))
				}
				if m.captured >= 0 && m.loPkts > 0 {
					cov = append(cov, float64(m.captured)/float64(m.loPkts))
				}
			}
			fmt.Printf("%-16s %-28s %10s %17s %12s %13s %14s %15s\n", l.name, name,
				rng(rate, "%.0f"), rng(ns, "%.0f"), rng(pct, "%.1f"), rng(hwm, "%.1f"), rng(drops, "%.0f"), rng(cov, "%.2f"))
		}
	}
}

// rng formats the min-max range of v ("-" when empty, one value when all
// are equal).
func rng(v []float64, f string) string {
	if len(v) == 0 {
		return "-"
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	lo, hi := fmt.Sprintf(f, s[0]), fmt.Sprintf(f, s[len(s)-1])
	if lo == hi {
		return lo
	}
	return lo + "-" + hi
}
