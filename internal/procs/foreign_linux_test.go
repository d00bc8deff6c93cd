//go:build linux

package procs

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/netnstest"
)

// TestForeignListeners checks the listeners of another network namespace:
// a process living in a namespace the test creates listens on TCP and UDP,
// and a Scanner lists both sockets, marked with that namespace and owned by
// that process, read through netlink inside the namespace, which shows
// none of our own sockets. It needs root and ip(8).
func TestForeignListeners(t *testing.T) {
	ns := netnstest.New(t, "porttop-foreign")
	ns.IP("link", "set", "lo", "up")
	child := ns.Command("TestForeignListenerChild")
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close() // the child returns at end of input
		go io.Copy(io.Discard, stdout)
		if err := child.Wait(); err != nil {
			t.Errorf("child: %v", err)
		}
	}()
	var tcpPort, udpPort uint16
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "listening tcp=%d udp=%d", &tcpPort, &udpPort); err == nil {
			break
		}
	}
	if tcpPort == 0 {
		t.Fatalf("the child never said where it listens (%v)", sc.Err())
	}
	pid := int32(child.Process.Pid)
	nsPath := fmt.Sprintf("/proc/%d/ns/net", pid)

	own, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	inside, err := readDiagIn(nsPath, true, nil)
	if err != nil {
		t.Fatalf("netlink inside the namespace: %v", err)
	}
	if !hasLocal(inside, key.TCP, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(tcpPort)}) || hasLocal(inside, key.TCP, own.Addr()) {
		t.Fatalf("netlink inside the namespace: the child's listener listed %v, ours %v; want true, false",
			hasLocal(inside, key.TCP, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(tcpPort)}), hasLocal(inside, key.TCP, own.Addr()))
	}

	s := NewScanner(Options{})
	ls := s.sockets.(*linuxSockets)
	var entered []string
	ls.listDiagIn = func(p string, listenOnly bool, socks []Socket) ([]Socket, error) {
		out, err := readDiagIn(p, listenOnly, socks)
		if err == nil {
			entered = append(entered, p)
		}
		return out, err
	}
	tb, err := s.Refresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		proto key.Proto
		port  uint16
	}{{key.TCP, tcpPort}, {key.UDP, udpPort}} {
		found := false
		for _, sk := range tb.Sockets {
			if sk.Proto == want.proto && sk.Local.Port() == want.port && sk.Listening && sk.Netns != "" {
				found = true
				if sk.PID != pid || !strings.HasPrefix(sk.Netns, "netns:") {
					t.Errorf("%v %d: pid %d in %q, want pid %d in netns:...", want.proto, want.port, sk.PID, sk.Netns, pid)
				}
			}
		}
		if !found {
			t.Errorf("%v %d of the other namespace not listed", want.proto, want.port)
		}
	}
	if !strings.Contains(strings.Join(entered, " "), nsPath) {
		t.Errorf("namespaces entered through netlink: %v, want %s among them", entered, nsPath)
	}

	// Without the privilege to enter a namespace, the listeners come from
	// /proc/PID/net, and entering is not tried again.
	s = NewScanner(Options{})
	ls = s.sockets.(*linuxSockets)
	tries := 0
	ls.listDiagIn = func(p string, _ bool, _ []Socket) ([]Socket, error) {
		tries++
		return nil, fmt.Errorf("setns %s: %w", p, unix.EPERM)
	}
	tb, err = s.Refresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !hasLocal(tb.Sockets, key.TCP, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(tcpPort)}) || !ls.noSetns || tries != 1 {
		t.Errorf("setns refused: the child's listener listed %v, noSetns %v after %d tries; want true, true, 1",
			hasLocal(tb.Sockets, key.TCP, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(tcpPort)}), ls.noSetns, tries)
	}
}

// TestForeignListenerChild is the process of TestForeignListeners that
// lives in the other namespace: it listens, says where, and waits for the
// end of its input.
func TestForeignListenerChild(t *testing.T) {
	if !netnstest.InChild() {
		t.Skip("runs only inside TestForeignListeners's namespace")
	}
	tl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	ul, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	fmt.Printf("listening tcp=%d udp=%d\n", tl.Addr().(*net.TCPAddr).Port, ul.LocalAddr().(*net.UDPAddr).Port)
	_, _ = io.Copy(io.Discard, os.Stdin)
}
