//go:build linux

// Package netnstest runs part of a test inside a network namespace that
// the test creates and deletes, so that the test's traffic can use
// interfaces and routes of its own without touching the host's.
//
// The test calls New, configures the namespace with IP, and runs a child
// test (a copy of the test binary, started by ip netns exec) with Run. The
// child test checks InChild and skips itself when it is not the child.
package netnstest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// childEnv is set in the child test's environment.
const childEnv = "PORTTOP_NETNS_CHILD"

// NS is a network namespace made for one test.
type NS struct {
	// Name is the namespace's name, as ip netns lists it.
	Name string
	t    *testing.T
	ip   string
	ctx  context.Context
}

// InChild reports whether this test binary is the child that Run started.
func InChild() bool { return os.Getenv(childEnv) != "" }

// New creates a network namespace named prefix-PID, deleted when t ends.
// It skips t (with the reason) without root, without ip(8), or where
// namespaces cannot be created, and when this is the child of Run. Every
// command it runs is bounded by a minute.
func New(t *testing.T, prefix string) *NS {
	t.Helper()
	if InChild() {
		t.Skip("inside the namespace")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("needs the ip command")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	n := &NS{Name: prefix + "-" + strconv.Itoa(os.Getpid()), t: t, ip: ip, ctx: ctx}
	if err := n.run("netns", "add", n.Name); err != nil {
		t.Skipf("cannot create a network namespace here: %v", err)
	}
	t.Cleanup(func() {
		// ctx may be over by now; deleting gets its own time limit.
		dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer dcancel()
		if out, err := exec.CommandContext(dctx, ip, "netns", "del", n.Name).CombinedOutput(); err != nil {
			t.Errorf("deleting namespace %s: %v: %s", n.Name, err, out)
		}
	})
	return n
}

// IP runs ip(8) with args inside the namespace ("ip -n NAME args...") and
// fails the test when it fails.
func (n *NS) IP(args ...string) {
	n.t.Helper()
	if err := n.run(append([]string{"-n", n.Name}, args...)...); err != nil {
		n.t.Fatal(err)
	}
}

func (n *NS) run(args ...string) error {
	out, err := exec.CommandContext(n.ctx, n.ip, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Command returns, not started, the command that runs the test named test
// of this test binary inside the namespace (ip netns exec execs the test
// binary, so the command's pid is the test's), for a child that must run
// beside the parent test rather than before it ends. It is killed when
// the namespace's minute is over.
func (n *NS) Command(test string) *exec.Cmd {
	child := exec.CommandContext(n.ctx, n.ip, "netns", "exec", n.Name, os.Args[0], "-test.run=^"+test+"$", "-test.v", "-test.count=1")
	child.Env = append(os.Environ(), childEnv+"=1")
	return child
}

// Run runs the test named test of this test binary inside the namespace
// and fails t unless it passes. It returns the child's output.
func (n *NS) Run(test string) string {
	n.t.Helper()
	out, err := n.Command(test).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+test) {
		n.t.Fatalf("%s inside namespace %s failed: %v\n%s", test, n.Name, err, out)
	}
	return string(out)
}
