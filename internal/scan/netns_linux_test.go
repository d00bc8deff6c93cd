//go:build linux

package scan

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porttop/porttop/internal/key"
)

// childEnv marks the copy of the test binary that runs inside the network
// namespace made by TestFilteredInNetns.
const childEnv = "PORTTOP_SCAN_NETNS_CHILD"

// TestFilteredInNetns checks the filtered verdicts against a real kernel,
// inside a network namespace the test creates and deletes. The namespace
// has only a loopback interface, so nothing can leave it:
//
//	10.99.0.0/24 routed into lo: SYNs vanish (no host has the address) → no-response
//	unreachable 10.98.0.0/24:   EHOSTUNREACH                             → host-unreachable
//	prohibit 10.97.0.0/24:      EACCES                                   → admin-prohibited
//
// It needs root and the ip(8) command, and is skipped otherwise.
func TestFilteredInNetns(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("inside the namespace")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	ipCmd, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("needs the ip command")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ns := "porttop-scan-test-" + strconv.Itoa(os.Getpid())
	run := func(args ...string) error {
		out, err := exec.CommandContext(ctx, ipCmd, args...).CombinedOutput()
		if err != nil {
			return &cmdError{args: args, out: strings.TrimSpace(string(out)), err: err}
		}
		return nil
	}
	if err := run("netns", "add", ns); err != nil {
		t.Skipf("cannot create a network namespace here: %v", err)
	}
	t.Cleanup(func() {
		// ctx is cancelled by now; deleting gets its own time limit.
		dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer dcancel()
		if out, err := exec.CommandContext(dctx, ipCmd, "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("deleting namespace %s: %v: %s", ns, err, out)
		}
	})
	for _, args := range [][]string{
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", ns, "route", "add", "10.99.0.0/24", "dev", "lo"},
		{"-n", ns, "route", "add", "unreachable", "10.98.0.0/24"},
		{"-n", ns, "route", "add", "prohibit", "10.97.0.0/24"},
	} {
		if err := run(args...); err != nil {
			t.Fatal(err)
		}
	}
	child := exec.CommandContext(ctx, ipCmd, "netns", "exec", ns, os.Args[0], "-test.run=^TestNetnsChild$", "-test.v", "-test.count=1")
	child.Env = append(os.Environ(), childEnv+"=1")
	out, err := child.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestNetnsChild") {
		t.Fatalf("scan inside the namespace failed: %v\n%s", err, out)
	}
}

type cmdError struct {
	args []string
	out  string
	err  error
}

func (e *cmdError) Error() string {
	return "ip " + strings.Join(e.args, " ") + ": " + e.err.Error() + ": " + e.out
}

// TestNetnsChild is the half of TestFilteredInNetns that runs inside the
// namespace.
func TestNetnsChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("runs only inside TestFilteredInNetns's namespace")
	}
	cases := []struct {
		addr   string
		reason string
	}{
		{"10.99.0.2", "no-response"},
		{"10.98.0.2", "host-unreachable"},
		{"10.97.0.2", "admin-prohibited"},
	}
	for _, c := range cases {
		o := testOptions([]uint16{80, 443}, nil)
		o.Timeout = 200 * time.Millisecond
		start := time.Now()
		r, err := ScanAddr(context.Background(), netip.MustParseAddr(c.addr), o)
		if err != nil {
			t.Fatal(err)
		}
		for _, port := range []uint16{80, 443} {
			p := find(t, r, key.TCP, port)
			if p.State != Filtered || p.Reason != c.reason || p.Service != "" {
				t.Errorf("%s:%d: %+v, want filtered (%s)", c.addr, port, p, c.reason)
			}
		}
		if r.Counts.Filtered != 2 {
			t.Errorf("%s: counts %+v", c.addr, r.Counts)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("%s: took %v with a 200ms timeout", c.addr, el)
		}
	}
}
