package capture

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// vlanChildEnv marks the copy of the test binary that runs inside the
// namespace made by TestVLANOffloadLength.
const vlanChildEnv = "PORTTOP_VLAN_NETNS_CHILD"

// TestVLANOffloadLength checks the wire length of 802.1Q-tagged frames
// whose tag the kernel keeps out of the frame: on receive it moves the tag
// into packet metadata before packet sockets see the frame (as NICs that
// strip tags in hardware do), so the AF_PACKET engine must add the tag's 4
// bytes back to the length, as libpcap does. The test creates a network
// namespace with a veth pair; the child test writes tagged frames into one
// end and captures them on the other. It needs root and ip(8).
func TestVLANOffloadLength(t *testing.T) {
	if os.Getenv(vlanChildEnv) != "" {
		t.Skip("inside the namespace")
	}
	needRoot(t)
	ipCmd, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("needs the ip command")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ns := "porttop-vlan-" + strconv.Itoa(os.Getpid())
	ip := func(args ...string) error {
		out, err := exec.CommandContext(ctx, ipCmd, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	if err := ip("netns", "add", ns); err != nil {
		t.Skipf("cannot create a network namespace here: %v", err)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(ipCmd, "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("deleting namespace %s: %v: %s", ns, err, out)
		}
	})
	for _, args := range [][]string{
		{"-n", ns, "link", "add", "pt0", "type", "veth", "peer", "name", "pt1"},
		{"-n", ns, "link", "set", "pt0", "up"},
		{"-n", ns, "link", "set", "pt1", "up"},
	} {
		if err := ip(args...); err != nil {
			t.Fatal(err)
		}
	}
	child := exec.CommandContext(ctx, ipCmd, "netns", "exec", ns, os.Args[0], "-test.run=^TestVLANOffloadChild$", "-test.v", "-test.count=1")
	child.Env = append(os.Environ(), vlanChildEnv+"=1")
	out, err := child.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestVLANOffloadChild") {
		t.Fatalf("capture inside the namespace failed: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// TestVLANOffloadChild is the half of TestVLANOffloadLength that runs
// inside its namespace.
func TestVLANOffloadChild(t *testing.T) {
	if os.Getenv(vlanChildEnv) == "" {
		t.Skip("runs only inside TestVLANOffloadLength's namespace")
	}
	const sends, payload = 20, 50
	out, err := net.InterfaceByName("pt1")
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	to := &unix.SockaddrLinklayer{Ifindex: out.Index, Halen: 6, Addr: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	for _, e := range liveEngines() {
		t.Run(e.String(), func(t *testing.T) {
			port := uint16(40000 + e)
			frame := udpFrame(t, 5000, port, payload, 1) // tagged: VLAN 10
			src, err := OpenLive(LiveOptions{Interface: "pt0", Engine: e, Filter: fmt.Sprintf("udp and dst port %d", port)})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			for i := 0; i < sends; i++ {
				if err := unix.Sendto(fd, frame, 0, to); err != nil {
					t.Fatal(err)
				}
			}
			var ci Info
			got := 0
			for deadline := time.Now().Add(5 * time.Second); got < sends && time.Now().Before(deadline); {
				if _, err := src.ReadPacket(&ci); err == ErrTimeout {
					continue
				} else if err != nil {
					t.Fatal(err)
				}
				got++
				if ci.Length != len(frame) {
					t.Errorf("frame %d: wire length %d, want %d (the tag's 4 bytes included)", got, ci.Length, len(frame))
				}
			}
			if got != sends {
				t.Fatalf("captured %d of %d frames", got, sends)
			}
			t.Logf("%s: %d frames of %d bytes on the wire", e, got, len(frame))
		})
	}
}
