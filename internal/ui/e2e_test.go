package ui

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tmuxSession is a detached tmux server of its own running a shell in a
// 120×40 pane.
type tmuxSession struct {
	t    *testing.T
	sock string
}

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// send types keys into the pane (tmux key names, like Enter or Escape).
func (s *tmuxSession) send(keys ...string) {
	s.tmux(append([]string{"send-keys", "-t", "e2e"}, keys...)...)
}

// screen is what the pane shows now.
func (s *tmuxSession) screen() string { return s.tmux("capture-pane", "-p", "-t", "e2e") }

// waitFor polls the pane until ok, for at most 30 s.
func (s *tmuxSession) waitFor(what string, ok func(string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		sc := s.screen()
		if ok(sc) {
			return sc
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s; pane:\n%s", what, sc)
		}
		time.Sleep(100 * time.Millisecond) // polling the pane, bounded by the deadline
	}
}

// waitFile waits (bounded) until path exists and is not empty.
func waitFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 && strings.HasSuffix(string(b), "\n") {
			return strings.TrimSpace(string(b))
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", path)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestEndToEndTmux runs the real binary on lo in tmux with traffic the test
// sends, sorts and filters with keys, and checks that q and SIGHUP leave
// the terminal as it was (stty -g unchanged). It needs tmux and root (to
// capture); it skips otherwise, and in -short mode.
func TestEndToEndTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("end-to-end test needs tmux (apt-get install tmux; make deps installs it)")
	}
	if os.Geteuid() != 0 {
		t.Skip("end-to-end test needs root to capture on lo")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "porttop")
	build := exec.Command("go", "build", "-o", bin, "./cmd/porttop")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/porttop: %v\n%s", err, out)
	}

	// Traffic: a UDP and a TCP listener on 127.0.0.1, fed until the end.
	// The UDP service binds a port below the kernel's ephemeral range:
	// porttop does not take an unconnected UDP socket on an ephemeral port
	// (what a sendto() client gets) for a service. Bounded search.
	var udp net.PacketConn
	for p := 22000; p < 22100 && udp == nil; p++ {
		udp, _ = net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p))
	}
	if udp == nil {
		t.Skip("no free UDP port in 22000-22099")
	}
	defer udp.Close()
	tcpL, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcpL.Close()
	udpPort := udp.LocalAddr().(*net.UDPAddr).Port
	tcpPort := tcpL.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := udp.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	go func() {
		for {
			c, err := tcpL.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	go func() {
		uc, err := net.Dial("udp", udp.LocalAddr().String())
		if err != nil {
			return
		}
		defer uc.Close()
		tc, err := net.Dial("tcp", tcpL.Addr().String())
		if err != nil {
			return
		}
		defer tc.Close()
		payload := make([]byte, 1000)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				_, _ = uc.Write(payload)
				_, _ = tc.Write(payload)
			}
		}
	}()

	s := &tmuxSession{t: t, sock: filepath.Join(dir, "tmux.sock")}
	s.tmux("new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40", "sh")
	defer exec.Command("tmux", "-S", s.sock, "kill-server").Run()
	before := filepath.Join(dir, "stty.before")
	s.send("stty -g > "+before, "Enter")
	sttyBefore := waitFile(t, before)

	udpRow := regexp.MustCompile(`(?m)^\s*` + strconv.Itoa(udpPort) + `\s+udp`)
	tcpRow := regexp.MustCompile(`(?m)^\s*` + strconv.Itoa(tcpPort) + `\s+tcp`)

	// Round 1: filter, sort, quit with q. Other traffic on lo (other tests)
	// may push the test's rows off the screen, so filter on their ports first.
	after := filepath.Join(dir, "stty.after")
	both := strconv.Itoa(udpPort) + " " + strconv.Itoa(tcpPort)
	s.send(bin+" -i lo; stty -g > "+after, "Enter")
	s.waitFor("the dashboard", func(sc string) bool { return strings.Contains(sc, "PORT") })
	s.send("/", both, "Enter")
	s.waitFor("both ports", func(sc string) bool { return udpRow.MatchString(sc) && tcpRow.MatchString(sc) })
	s.send(">") // sort by port
	s.waitFor("sort by port", func(sc string) bool {
		u, c := udpRow.FindStringIndex(sc), tcpRow.FindStringIndex(sc)
		return strings.Contains(sc, "PORT▲") && u != nil && c != nil && (u[0] < c[0]) == (udpPort < tcpPort)
	})
	s.send("r") // reversed
	s.waitFor("reversed", func(sc string) bool {
		u, c := udpRow.FindStringIndex(sc), tcpRow.FindStringIndex(sc)
		return strings.Contains(sc, "PORT▼") && u != nil && c != nil && (u[0] < c[0]) == (udpPort > tcpPort)
	})
	s.send("/", " udp", "Enter") // narrows the filter to the UDP row
	s.waitFor("udp only", func(sc string) bool {
		return udpRow.MatchString(sc) && !tcpRow.MatchString(sc) && strings.Contains(sc, "filter "+both+" udp")
	})
	s.send("q")
	if got := waitFile(t, after); got != sttyBefore {
		t.Errorf("stty after q = %q, before %q", got, sttyBefore)
	}

	// Round 2: a dropped session (SIGHUP).
	pidFile := filepath.Join(dir, "pid")
	after2 := filepath.Join(dir, "stty.after2")
	s.send("sh -c 'echo $$ > "+pidFile+"; exec "+bin+" -i lo'; stty -g > "+after2, "Enter")
	pid, err := strconv.Atoi(waitFile(t, pidFile))
	if err != nil {
		t.Fatal(err)
	}
	s.waitFor("the dashboard", func(sc string) bool { return strings.Contains(sc, "PORT") })
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		t.Fatalf("SIGHUP to porttop (pid %d): %v", pid, err)
	}
	if got := waitFile(t, after2); got != sttyBefore {
		t.Errorf("stty after SIGHUP = %q, before %q", got, sttyBefore)
	}
	if sc := s.screen(); strings.Contains(sc, "PORT") {
		t.Errorf("the dashboard is still on the screen after SIGHUP:\n%s", sc)
	}
}
