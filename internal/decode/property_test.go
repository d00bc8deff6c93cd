package decode

import (
	"math/rand"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// randomPacket builds a well-formed TCP or UDP frame: a random link type
// that gopacket can decode, 0-2 VLAN tags on Ethernet, IPv4 (sometimes with
// options) or IPv6 (sometimes with a hop-by-hop header), random addresses,
// ports, flags and payload.
func randomPacket(tb testing.TB, r *rand.Rand) (link int, glink gopacket.Decoder, data []byte) {
	tb.Helper()
	var ls []gopacket.SerializableLayer
	v6 := r.Intn(2) == 0
	etherType := layers.EthernetTypeIPv4
	if v6 {
		etherType = layers.EthernetTypeIPv6
	}
	switch r.Intn(5) {
	case 0, 1:
		link, glink = LinkEthernet, layers.LinkTypeEthernet
		tags := r.Intn(3)
		first := etherType
		if tags > 0 {
			first = layers.EthernetTypeDot1Q
		}
		ls = append(ls, ethernet(first))
		for i := 0; i < tags; i++ {
			t := layers.EthernetTypeDot1Q
			if i == tags-1 {
				t = etherType
			}
			ls = append(ls, &layers.Dot1Q{VLANIdentifier: uint16(r.Intn(4095)), Priority: uint8(r.Intn(8)), Type: t})
		}
	case 2:
		link, glink = LinkLinuxSLL, layers.LinkTypeLinuxSLL
		ls = append(ls, sll(uint16(r.Intn(4)), 1, uint16(etherType)))
	case 3:
		link, glink = LinkNull, layers.LinkTypeNull
		fam := layers.ProtocolFamilyIPv4
		if v6 {
			fam = []layers.ProtocolFamily{layers.ProtocolFamilyIPv6Linux, layers.ProtocolFamilyIPv6BSD,
				layers.ProtocolFamilyIPv6FreeBSD, layers.ProtocolFamilyIPv6Darwin}[r.Intn(4)]
		}
		ls = append(ls, &layers.Loopback{Family: fam})
	case 4:
		link, glink = LinkRaw, layers.LinkTypeRaw
	}

	proto := layers.IPProtocolTCP
	if r.Intn(2) == 0 {
		proto = layers.IPProtocolUDP
	}
	var nl gopacket.NetworkLayer
	if v6 {
		var a, b [16]byte
		r.Read(a[:])
		r.Read(b[:])
		ip := &layers.IPv6{Version: 6, HopLimit: uint8(r.Intn(256)), FlowLabel: uint32(r.Intn(1 << 20)),
			NextHeader: proto, SrcIP: a[:], DstIP: b[:]}
		nl = ip
		ls = append(ls, ip)
		if r.Intn(4) == 0 {
			ip.NextHeader = layers.IPProtocolIPv6HopByHop
			hbh := &layers.IPv6HopByHop{Options: padN()}
			hbh.NextHeader = proto
			ls = append(ls, hbh)
		}
	} else {
		var a, b [4]byte
		r.Read(a[:])
		r.Read(b[:])
		ip := &layers.IPv4{Version: 4, TTL: uint8(r.Intn(256)), Id: uint16(r.Intn(1 << 16)), Protocol: proto,
			SrcIP: a[:], DstIP: b[:]}
		if r.Intn(2) == 0 {
			ip.Flags = layers.IPv4DontFragment
		}
		if r.Intn(4) == 0 {
			n := 1 + r.Intn(9) // NOPs, then a router alert: 4-byte aligned
			for i := 0; i < n; i++ {
				ip.Options = append(ip.Options, layers.IPv4Option{OptionType: 1, OptionLength: 1})
			}
			for (n+4)%4 != 0 {
				ip.Options = append(ip.Options, layers.IPv4Option{OptionType: 1, OptionLength: 1})
				n++
			}
			ip.Options = append(ip.Options, layers.IPv4Option{OptionType: 0x94, OptionLength: 4, OptionData: []byte{0, 0}})
		}
		nl = ip
		ls = append(ls, ip)
	}
	sp, dp := uint16(r.Intn(1<<16)), uint16(r.Intn(1<<16))
	if proto == layers.IPProtocolTCP {
		f := uint8(r.Intn(256))
		t := &layers.TCP{SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp),
			Seq: r.Uint32(), Ack: r.Uint32(), Window: uint16(r.Intn(1 << 16))}
		t.FIN, t.SYN, t.RST, t.PSH = f&0x01 != 0, f&0x02 != 0, f&0x04 != 0, f&0x08 != 0
		t.ACK, t.URG, t.ECE, t.CWR = f&0x10 != 0, f&0x20 != 0, f&0x40 != 0, f&0x80 != 0
		if r.Intn(3) == 0 {
			t.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}}}
		}
		if err := t.SetNetworkLayerForChecksum(nl); err != nil {
			tb.Fatal(err)
		}
		ls = append(ls, t)
	} else {
		ls = append(ls, udp(nl, sp, dp))
	}
	payload := make([]byte, r.Intn(200))
	r.Read(payload)
	ls = append(ls, gopacket.Payload(payload))
	return link, glink, serialize(tb, ls...)
}

// TestDecodeMatchesGopacket checks Decode against gopacket.NewPacket on
// random well-formed packets.
func TestDecodeMatchesGopacket(t *testing.T) {
	r := rand.New(rand.NewSource(20261128))
	type combo struct {
		link  int
		v6    bool
		proto uint8
	}
	seen := map[combo]int{}
	for i := 0; i < 500; i++ {
		link, glink, data := randomPacket(t, r)
		var p Packet
		Decode(link, data, &p)
		checkInvariants(t, data, &p)
		seen[combo{link, p.IPv6, p.IPProto}]++

		gp := gopacket.NewPacket(data, glink, gopacket.Default)
		if el := gp.ErrorLayer(); el != nil {
			t.Fatalf("packet %d: gopacket cannot decode the crafted packet: %v", i, el.Error())
		}
		if p.Kind != Transport || p.Problem != NoProblem || p.Truncated || p.Fragmented {
			t.Fatalf("packet %d (link %d): %+v, want a whole transport packet\n% x", i, link, p, data)
		}
		var src, dst netip.Addr
		switch ip := gp.NetworkLayer().(type) {
		case *layers.IPv4:
			src, dst = netip.AddrFrom4([4]byte(ip.SrcIP.To4())), netip.AddrFrom4([4]byte(ip.DstIP.To4()))
			if p.IPv6 || p.IPProto != uint8(ip.Protocol) {
				t.Errorf("packet %d: IPv6 %v proto %d, gopacket IPv4 proto %d", i, p.IPv6, p.IPProto, ip.Protocol)
			}
		case *layers.IPv6:
			src, dst = netip.AddrFrom16([16]byte(ip.SrcIP)), netip.AddrFrom16([16]byte(ip.DstIP))
			if !p.IPv6 {
				t.Errorf("packet %d: IPv6 false, gopacket IPv6", i)
			}
		default:
			t.Fatalf("packet %d: gopacket network layer %T", i, ip)
		}
		if got := netip.AddrFrom16(p.Src).Unmap(); got != src {
			t.Errorf("packet %d: Src %v, gopacket %v", i, got, src)
		}
		if got := netip.AddrFrom16(p.Dst).Unmap(); got != dst {
			t.Errorf("packet %d: Dst %v, gopacket %v", i, got, dst)
		}
		switch tl := gp.TransportLayer().(type) {
		case *layers.TCP:
			var f uint8
			for bit, set := range []bool{tl.FIN, tl.SYN, tl.RST, tl.PSH, tl.ACK, tl.URG, tl.ECE, tl.CWR} {
				if set {
					f |= 1 << bit
				}
			}
			if p.IPProto != 6 || p.SrcPort != uint16(tl.SrcPort) || p.DstPort != uint16(tl.DstPort) || p.TCPFlags != f {
				t.Errorf("packet %d: proto %d %d->%d flags %#x, gopacket TCP %d->%d flags %#x",
					i, p.IPProto, p.SrcPort, p.DstPort, p.TCPFlags, tl.SrcPort, tl.DstPort, f)
			}
		case *layers.UDP:
			if p.IPProto != 17 || p.SrcPort != uint16(tl.SrcPort) || p.DstPort != uint16(tl.DstPort) || p.TCPFlags != 0 {
				t.Errorf("packet %d: proto %d %d->%d flags %#x, gopacket UDP %d->%d",
					i, p.IPProto, p.SrcPort, p.DstPort, p.TCPFlags, tl.SrcPort, tl.DstPort)
			}
		default:
			t.Fatalf("packet %d: gopacket transport layer %T", i, tl)
		}
		checkSnaplenCut(t, r, link, data, len(data)-len(gp.TransportLayer().LayerContents())-len(gp.TransportLayer().LayerPayload()), p)
	}
	// The generator must have covered every link type, IP version and
	// transport protocol.
	for _, link := range []int{LinkEthernet, LinkLinuxSLL, LinkNull, LinkRaw} {
		for _, v6 := range []bool{false, true} {
			for _, proto := range []uint8{6, 17} {
				if seen[combo{link, v6, proto}] == 0 {
					t.Errorf("no packet generated for link %d IPv6 %v proto %d", link, v6, proto)
				}
			}
		}
	}
}

// checkSnaplenCut cuts data, whose transport header starts at off and
// decodes to whole, at a random length inside or after the transport header,
// as a snaplen would, and checks what Decode still reads.
func checkSnaplenCut(t *testing.T, r *rand.Rand, link int, data []byte, off int, whole Packet) {
	t.Helper()
	hdrLen := 8
	if whole.IPProto == 6 {
		hdrLen = 20
	}
	n := off + r.Intn(hdrLen+8)
	if n > len(data) {
		n = len(data)
	}
	want := whole
	switch {
	case n < off+4:
		want = Packet{Kind: Other, Problem: ShortTransport, IPv6: whole.IPv6, IPProto: whole.IPProto, Src: whole.Src, Dst: whole.Dst}
	case n < off+hdrLen:
		want.Truncated = true
		if n < off+14 {
			want.TCPFlags = 0
		}
	}
	var p Packet
	Decode(link, data[:n], &p)
	if p != want {
		t.Errorf("cut at %d (transport at %d) of % x\n got %+v\nwant %+v", n, off, data, p, want)
	}
	checkInvariants(t, data[:n], &p)
}
