package decode

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// fuzzLinks are the link types every fuzz input is decoded as: all those
// Decode supports, and one it does not.
var fuzzLinks = []int{LinkNull, LinkEthernet, LinkRawOld, LinkRawOld2, LinkRaw, LinkLoop,
	LinkLinuxSLL, LinkIPv4, LinkIPv6, LinkLinuxSLL2, 147}

// FuzzDecode decodes arbitrary bytes as every link type: Decode must not
// panic, must not write to its input, must give the same answer twice, and
// its result must hold the invariants in checkInvariants. The committed
// corpus is in testdata/fuzz/FuzzDecode; the crafted packets of TestDecode
// are added as seeds too.
func FuzzDecode(f *testing.F) {
	for _, c := range decodeCases(f) {
		f.Add(c.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		orig := bytes.Clone(data)
		for _, link := range fuzzLinks {
			var p, q Packet
			Decode(link, data, &p)
			checkInvariants(t, data, &p)
			q = Packet{Kind: Fragment, Problem: BadIP, IPv6: true, SrcPort: 1, Truncated: true}
			Decode(link, data, &q)
			if p != q {
				t.Errorf("link %d: Decode not deterministic (or does not reset its result): %+v then %+v", link, p, q)
			}
			if !bytes.Equal(data, orig) {
				t.Fatalf("link %d: Decode modified its input", link)
			}
			if p.Kind == Transport {
				checkPortsInData(t, link, data, &p)
			}
			switch link {
			case LinkEthernet:
				checkAgainstGopacket(t, link, layers.LinkTypeEthernet, data, &p)
			case LinkRaw:
				checkAgainstGopacket(t, link, layers.LinkTypeRaw, data, &p)
			}
		}
	})
}

// checkPortsInData checks that the ports Decode returned appear, in network
// byte order, somewhere in the frame after the link and IP headers' minimum
// size, and that a TCP flag byte follows them at offset 13 when read.
func checkPortsInData(t *testing.T, link int, data []byte, p *Packet) {
	t.Helper()
	want := []byte{byte(p.SrcPort >> 8), byte(p.SrcPort), byte(p.DstPort >> 8), byte(p.DstPort)}
	for i := 20; i+4 <= len(data); i++ {
		if bytes.Equal(data[i:i+4], want) && (p.TCPFlags == 0 || (i+13 < len(data) && data[i+13] == p.TCPFlags)) {
			return
		}
	}
	t.Errorf("link %d: ports %d->%d flags %#x not found in the frame % x", link, p.SrcPort, p.DstPort, p.TCPFlags, data)
}

// checkAgainstGopacket decodes data with gopacket and, when gopacket reads
// it without error as a plain stack — Ethernet and VLAN tags, IPv4 (not a
// fragment) or IPv6 with hop-by-hop, routing or destination options
// headers, then TCP or UDP — checks that Decode read the same transport
// header. Stacks the two decoders treat differently on purpose (LLC/SNAP,
// IPv4 AH, fragments that gopacket does not decode to TCP/UDP, headers that
// gopacket's layers reject, an IPv6 payload length too short for the
// headers) are not compared.
func checkAgainstGopacket(t *testing.T, link int, glink layers.LinkType, data []byte, p *Packet) {
	t.Helper()
	gp := gopacket.NewPacket(data, glink, gopacket.DecodeOptions{NoCopy: true})
	if gp.ErrorLayer() != nil {
		return
	}
	var want Packet
	tags, exts := 0, 0
	v6Length, v6Used := -1, 0 // IPv6 payload length, and the bytes of it read up to the transport header
	for _, l := range gp.Layers() {
		if v6Length >= 0 {
			v6Used += len(l.LayerContents())
		}
		switch l := l.(type) {
		case *layers.Ethernet:
		case *layers.Dot1Q:
			tags++
		case *layers.IPv4:
			if l.Version != 4 || l.Flags&layers.IPv4MoreFragments != 0 || l.FragOffset != 0 {
				return
			}
			want.IPProto = uint8(l.Protocol)
			want.Src = netip.AddrFrom4([4]byte(l.SrcIP)).As16()
			want.Dst = netip.AddrFrom4([4]byte(l.DstIP)).As16()
		case *layers.IPv6:
			if l.Version != 6 {
				return
			}
			want.IPv6 = true
			want.Src, want.Dst = [16]byte(l.SrcIP), [16]byte(l.DstIP)
			v6Length = int(l.Length)
		case *layers.IPv6HopByHop, *layers.IPv6Routing, *layers.IPv6Destination:
			if !want.IPv6 {
				return // gopacket reads IPv6 extension headers after IPv4 too
			}
			exts++
		case *layers.TCP:
			want.Kind, want.IPProto = Transport, 6
			want.SrcPort, want.DstPort, want.TCPFlags = uint16(l.SrcPort), uint16(l.DstPort), l.Contents[13]
		case *layers.UDP:
			want.Kind, want.IPProto = Transport, 17
			want.SrcPort, want.DstPort = uint16(l.SrcPort), uint16(l.DstPort)
		default:
			return
		}
		if want.Kind == Transport {
			break
		}
	}
	if want.Kind != Transport || tags > maxVLANTags || exts >= maxIPv6Hdrs {
		return
	}
	// gopacket reads IPv6 extension headers past a payload length too short
	// to hold them; Decode does not.
	if v6Length > 0 && v6Used > v6Length {
		return
	}
	if *p != want {
		t.Errorf("link %d: gopacket reads % x as\n%s\nDecode: %+v\nwant    %+v", link, data, gp.Dump(), *p, want)
	}
}
