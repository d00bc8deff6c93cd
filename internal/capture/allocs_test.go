package capture

import (
	"bytes"
	"fmt"
	"net"
	"testing"

	"github.com/google/gopacket/layers"
)

// TestFileReadPacketAllocs: reading a packet from a file allocates nothing.
func TestFileReadPacketAllocs(t *testing.T) {
	pkts := testPackets(t, 300)
	for name, b := range map[string][]byte{
		"pcap":        writePcap(t, pkts, false, layers.LinkTypeEthernet),
		"pcapng":      writePcapng(t, pkts),
		"gzip pcap":   gzipped(t, writePcap(t, pkts, true, layers.LinkTypeEthernet)),
		"pcap filter": writePcap(t, pkts, false, layers.LinkTypeEthernet),
	} {
		filter := ""
		if name == "pcap filter" {
			filter = "udp port 53"
		}
		src, err := NewReader(bytes.NewReader(b), name, filter)
		if err != nil {
			t.Fatal(err)
		}
		var ci Info
		allocs := testing.AllocsPerRun(200, func() {
			if _, err := src.ReadPacket(&ci); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per packet, want 0", name, allocs)
		}
	}
}

// TestLiveReadPacketAllocs: reading a live packet (or a timeout) allocates
// nothing, on either engine.
func TestLiveReadPacketAllocs(t *testing.T) {
	needRoot(t)
	lo := loopback(t)
	for _, e := range liveEngines() {
		t.Run(e.String(), func(t *testing.T) {
			ln, err := net.ListenPacket("udp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			src, err := OpenLive(LiveOptions{Interface: lo, Engine: e,
				Filter: fmt.Sprintf("udp and dst port %d", ln.LocalAddr().(*net.UDPAddr).Port)})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			const runs = 100
			udpBlast(t, "udp4", ln.LocalAddr(), runs+1, 64)
			var ci Info
			allocs := testing.AllocsPerRun(runs, func() {
				for {
					_, err := src.ReadPacket(&ci)
					if err == nil {
						return
					}
					if err != ErrTimeout {
						t.Fatal(err)
					}
				}
			})
			if allocs != 0 {
				t.Errorf("%.2f allocations per packet, want 0", allocs)
			}
		})
	}
}
