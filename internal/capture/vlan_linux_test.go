package capture

import (
	"fmt"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/porttop/porttop/internal/netnstest"
)

// TestVLANOffloadLength checks the wire length of 802.1Q-tagged frames
// whose tag the kernel keeps out of the frame: on receive it moves the tag
// into packet metadata before packet sockets see the frame (as NICs that
// strip tags in hardware do), so the AF_PACKET engine must add the tag's 4
// bytes back to the length, as libpcap does. The test creates a network
// namespace with a veth pair; the child test writes tagged frames into one
// end and captures them on the other. It needs root and ip(8).
func TestVLANOffloadLength(t *testing.T) {
	ns := netnstest.New(t, "porttop-vlan")
	ns.IP("link", "add", "pt0", "type", "veth", "peer", "name", "pt1")
	ns.IP("link", "set", "pt0", "up")
	ns.IP("link", "set", "pt1", "up")
	t.Logf("%s", ns.Run("TestVLANOffloadChild"))
}

// TestVLANOffloadChild is the half of TestVLANOffloadLength that runs
// inside its namespace.
func TestVLANOffloadChild(t *testing.T) {
	if !netnstest.InChild() {
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
