package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/porttop/porttop/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// binary is the porttop binary built once for these tests.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "porttop-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "porttop")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		panic("building porttop: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// porttop runs the binary and returns stdout, stderr and the exit code.
func porttop(t *testing.T, cred *syscall.Credential, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	// An empty config directory: the user's own services file must not
	// change the golden outputs.
	cmd.Env = append(os.Environ(), "TERM=dumb", "XDG_CONFIG_HOME="+filepath.Dir(binary))
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

const ref = "../../testdata/reference.pcap"

func TestGoldenOffline(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"reference.json", []string{"-r", ref, "-b", "-o", "json"}},
		{"reference-every.json", []string{"-r", ref, "-b", "-o", "json", "--every", "1s"}},
		{"reference.table", []string{"-r", ref, "-b"}},
		{"reference.csv", []string{"-r", ref, "-b", "-o", "csv", "-s", "port"}},
		{"reference-filtered.json", []string{"-r", ref, "-b", "-o", "json", "-p", "53,400-500,8000-9000", "-f", "not (udp and port 53)"}},
		// The only 8080 traffic is 802.1Q-tagged: a plain BPF port filter
		// must still match it.
		{"reference-vlan.json", []string{"-r", ref, "-b", "-o", "json", "-f", "tcp port 8080"}},
		{"reference-local.json", []string{"-r", ref, "-b", "-o", "json", "--local", "192.0.2.10", "--local", "2001:db8::a/128", "-s", "tx"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			out, errOut, code := porttop(t, nil, tt.args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			golden.Check(t, tt.golden, []byte(out), *update)
		})
	}
}

// A services file (the config file, or --services) adds and renames names.
func TestServicesConfigFile(t *testing.T) {
	cfg := t.TempDir()
	if err := os.MkdirAll(filepath.Join(cfg, "porttop"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg, "porttop", "services"), []byte("vxlan 4789/udp\nweb 443/tcp # renamed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "-r", ref, "-b", "-o", "csv", "-p", "443,4789")
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+cfg)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), ",4789,udp,vxlan,") || !strings.Contains(string(out), ",443,tcp,web,") {
		t.Errorf("config file names not used:\n%s", out)
	}
	bad := filepath.Join(cfg, "bad")
	if err := os.WriteFile(bad, []byte("nonsense\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := porttop(t, nil, "-r", ref, "-b", "--services", bad)
	checkOneLineError(t, errOut, code, 2, "line 1")
}

// The same capture as pcapng, gzip-compressed, gives the same report.
func TestPcapngGzipSameAsPcap(t *testing.T) {
	a, _, code := porttop(t, nil, "-r", ref, "-b", "-o", "json")
	b, errOut, code2 := porttop(t, nil, "-r", "../../testdata/reference.pcapng.gz", "-b", "-o", "json")
	if code != 0 || code2 != 0 {
		t.Fatalf("exit %d/%d: %s", code, code2, errOut)
	}
	if a != b || a == "" {
		t.Errorf("pcap and pcapng.gz reports differ:\n%s\n%s", a, b)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	notCapture := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notCapture, []byte("hello, this is not a capture file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "cut.pcap")
	if err := os.WriteFile(truncated, data[:len(data)-50], 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string // in the one-line error
	}{
		{"missing file", []string{"-r", filepath.Join(dir, "nope.pcap"), "-b"}, 1, "no such file"},
		{"not a capture", []string{"-r", notCapture, "-b"}, 1, "not a pcap or pcapng file"},
		{"bad port list", []string{"-p", "80-", "-b"}, 2, "bad port list"},
		{"bad port number", []string{"-p", "70000", "-b"}, 2, "bad port list"},
		{"bad duration", []string{"-d", "soon", "-b"}, 2, "invalid value"},
		{"zero duration", []string{"-d", "0s", "-b"}, 2, "must be positive"},
		{"bad every", []string{"-r", ref, "--every", "-1s", "-b"}, 2, "--every"},
		{"every without file", []string{"--every", "1s", "-b"}, 2, "needs -r"},
		{"bad format", []string{"-o", "xml", "-b"}, 2, "unknown output format"},
		{"bad sort", []string{"-s", "size", "-b"}, 2, "unknown sort key"},
		{"bad engine", []string{"--engine", "dpdk", "-b"}, 2, "engine"},
		{"bad local", []string{"--local", "10.0.0.0/33", "-b"}, 2, "bad address"},
		{"bad snaplen", []string{"--snaplen", "0", "-b"}, 2, "snaplen"},
		{"bad count", []string{"-n", "-1", "-b"}, 2, "-n"},
		{"stray argument", []string{"-b", "eth0"}, 2, "unexpected argument"},
		{"unknown flag", []string{"--frobnicate"}, 2, "frobnicate"},
		{"bad filter on file", []string{"-r", ref, "-b", "-f", "port nonsense"}, 1, "bad filter"},
		{"missing services file", []string{"-r", ref, "-b", "--services", filepath.Join(dir, "none")}, 2, "services file"},
		{"unknown interface", []string{"-i", "nosuchif0", "-b", "-n", "1"}, 1, "lo"},
		{"bad filter live", []string{"-i", "lo", "-f", "port nonsense", "-b", "-n", "1"}, 1, "bad filter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := porttop(t, nil, tt.args...)
			checkOneLineError(t, errOut, code, tt.code, tt.want)
		})
	}
	t.Run("truncated capture", func(t *testing.T) {
		out, errOut, code := porttop(t, nil, "-r", truncated, "-b", "-o", "json")
		checkOneLineError(t, errOut, code, 1, "truncated")
		if !strings.Contains(out, `"ports":[{`) {
			t.Errorf("no report of what was read before the error: %q", out)
		}
	})
}

func checkOneLineError(t *testing.T, stderr string, code, wantCode int, want string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("exit code %d, want %d (stderr %q)", code, wantCode, stderr)
	}
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "porttop: ") {
		t.Errorf("stderr is not one porttop: line: %q", stderr)
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr %q does not mention %q", stderr, want)
	}
	if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
		t.Errorf("stack trace on stderr: %q", stderr)
	}
}

// Without the capture capabilities, porttop says how to grant them.
func TestNoPermission(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run porttop as an unprivileged user (skipped: not root)")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody to drop privileges to: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// The binary lives in a private temp dir; nobody must be able to run it.
	if err := os.Chmod(filepath.Dir(binary), 0o755); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := porttop(t, &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, "-i", "lo", "-b", "-n", "1")
	checkOneLineError(t, errOut, code, 1, "setcap cap_net_raw,cap_net_admin=eip")
}

func TestHelp(t *testing.T) {
	_, errOut, code := porttop(t, nil, "-h")
	if code != 0 || !strings.Contains(errOut, "frame lengths on the wire") || !strings.Contains(errOut, "-snaplen") {
		t.Errorf("help: exit %d\n%s", code, errOut)
	}
}

// A process that listens and sends traffic appears in its row with its own
// pid and name; a listening port without traffic is a row too; -p keeps
// the report to the ports named; the live batch report is valid JSON
// Lines, one per interval.
func TestLiveRowHasProcess(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture on lo needs root (CI runs as root); skipped")
	}
	// A UDP service binds a port below the kernel's ephemeral range (ports
	// in it are what clients get, so porttop does not treat them as
	// services). Bounded search for a free one.
	var pc net.PacketConn
	for p := 21000; p < 21100 && pc == nil; p++ {
		pc, _ = net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(p))
	}
	if pc == nil {
		t.Skip("no free UDP port in 21000-21099")
	}
	defer pc.Close()
	port := pc.LocalAddr().(*net.UDPAddr).Port
	idle, err := net.Listen("tcp4", "127.0.0.1:0") // no traffic
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	idlePort := idle.Addr().(*net.TCPAddr).Port
	stop := make(chan struct{})
	defer close(stop)
	go func() { // bounded: at most 400 datagrams, 10 ms apart
		c, err := net.Dial("udp4", pc.LocalAddr().String())
		if err != nil {
			return
		}
		defer c.Close()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < 400; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
				c.Write(make([]byte, 64))
			}
		}
	}()
	out, errOut, code := porttop(t, nil, "-i", "lo", "-b", "-n", "3", "-d", "500ms", "-o", "json", "-p", strconv.Itoa(port)+","+strconv.Itoa(idlePort))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d reports, want 3:\n%s", len(lines), out)
	}
	var last struct {
		Interfaces []struct{ Name string }
		Ports      []struct {
			Port        int
			Proto, Side string
			Process     string
			PID         int
			RxBytes     uint64 `json:"rx_bytes"`
			Listening   bool
		}
	}
	if err := json.Unmarshal([]byte(lines[2]), &last); err != nil {
		t.Fatal(err)
	}
	if len(last.Interfaces) != 1 || last.Interfaces[0].Name != "lo" {
		t.Errorf("interfaces %+v", last.Interfaces)
	}
	if len(last.Ports) != 2 {
		t.Fatalf("ports %+v, want just %d/udp and %d/tcp", last.Ports, port, idlePort)
	}
	p, q := last.Ports[0], last.Ports[1]
	if p.Port != port {
		p, q = q, p
	}
	if q.Port != idlePort || q.Proto != "tcp" || q.Side != "local" || !q.Listening || q.RxBytes != 0 {
		t.Errorf("idle listener's row %+v, want %d/tcp local, listening, no bytes", q, idlePort)
	}
	self, _ := os.Executable()
	if p.Port != port || p.Proto != "udp" || p.Side != "local" || !p.Listening || p.RxBytes == 0 ||
		p.PID != os.Getpid() || !strings.HasPrefix(filepath.Base(self), p.Process) {
		t.Errorf("row %+v, want pid %d and process %q", p, os.Getpid(), filepath.Base(self))
	}
}
