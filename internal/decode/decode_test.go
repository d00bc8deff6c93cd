package decode

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strconv"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Addresses used by the crafted packets.
var (
	srcMAC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	dstMAC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
	src4   = netip.MustParseAddr("192.0.2.10")
	dst4   = netip.MustParseAddr("198.51.100.20")
	src6   = netip.MustParseAddr("2001:db8::10")
	dst6   = netip.MustParseAddr("2001:db8:1::20")
)

// serialize builds a frame from layers with lengths and checksums fixed, as
// a capture would see it.
func serialize(tb testing.TB, ls ...gopacket.SerializableLayer) []byte {
	tb.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		tb.Fatalf("serialize: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func ethernet(t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: t}
}

func ipv4(proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, TTL: 64, Id: 0x1234, Protocol: proto,
		SrcIP: src4.AsSlice(), DstIP: dst4.AsSlice()}
}

func ipv6(next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next,
		SrcIP: src6.AsSlice(), DstIP: dst6.AsSlice()}
}

// tcp returns a TCP layer with the given flags (FlagSYN, FlagACK, ...) whose
// checksum is computed over nl.
func tcp(nl gopacket.NetworkLayer, sp, dp uint16, flags uint8) *layers.TCP {
	t := &layers.TCP{SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp), Seq: 1000, Window: 65535,
		FIN: flags&FlagFIN != 0, SYN: flags&FlagSYN != 0, RST: flags&FlagRST != 0,
		PSH: flags&0x08 != 0, ACK: flags&FlagACK != 0}
	if err := t.SetNetworkLayerForChecksum(nl); err != nil {
		panic(err)
	}
	return t
}

func udp(nl gopacket.NetworkLayer, sp, dp uint16) *layers.UDP {
	u := &layers.UDP{SrcPort: layers.UDPPort(sp), DstPort: layers.UDPPort(dp)}
	if err := u.SetNetworkLayerForChecksum(nl); err != nil {
		panic(err)
	}
	return u
}

// sll builds a Linux cooked v1 header (gopacket v1.1.19 cannot serialize
// layers.LinuxSLL).
func sll(pktType, haType, proto uint16) gopacket.Payload {
	h := make([]byte, 16)
	binary.BigEndian.PutUint16(h[0:], pktType)
	binary.BigEndian.PutUint16(h[2:], haType)
	binary.BigEndian.PutUint16(h[4:], 6)
	copy(h[6:], srcMAC)
	binary.BigEndian.PutUint16(h[14:], proto)
	return h
}

// sll2 builds the 20-byte Linux cooked v2 header.
func sll2(pktType uint8, haType, proto uint16) gopacket.Payload {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], proto)
	binary.BigEndian.PutUint32(h[4:], 2) // interface index
	binary.BigEndian.PutUint16(h[8:], haType)
	h[10] = pktType
	h[11] = 6
	copy(h[12:], srcMAC)
	return h
}

// family4 is a BSD null/loop header with the address family in the given
// byte order.
func family4(order binary.ByteOrder, fam uint32) gopacket.Payload {
	h := make([]byte, 4)
	order.PutUint32(h, fam)
	return h
}

// ext6 builds a generic IPv6 extension header (hop-by-hop, routing, ...)
// of 8*(units+1) bytes.
func ext6(next layers.IPProtocol, units uint8, typ byte) gopacket.Payload {
	h := make([]byte, 8*(int(units)+1))
	h[0] = byte(next)
	h[1] = units
	h[2] = typ
	return h
}

// frag6 builds an IPv6 fragment header (gopacket v1.1.19 cannot serialize
// layers.IPv6Fragment).
func frag6(next layers.IPProtocol, offset uint16, more bool, id uint32) gopacket.Payload {
	h := make([]byte, 8)
	h[0] = byte(next)
	v := offset << 3
	if more {
		v |= 1
	}
	binary.BigEndian.PutUint16(h[2:], v)
	binary.BigEndian.PutUint32(h[4:], id)
	return h
}

func padN() []*layers.IPv6HopByHopOption {
	return []*layers.IPv6HopByHopOption{{OptionType: 1, OptionData: make([]byte, 4)}}
}

// want4 and want6 are the expected result of a TCP/UDP packet between the
// test addresses.
func want4(proto uint8, sp, dp uint16, flags uint8) Packet {
	return Packet{Kind: Transport, IPProto: proto, TCPFlags: flags, SrcPort: sp, DstPort: dp,
		Src: src4.As16(), Dst: dst4.As16()}
}

func want6(proto uint8, sp, dp uint16, flags uint8) Packet {
	return Packet{Kind: Transport, IPv6: true, IPProto: proto, TCPFlags: flags, SrcPort: sp, DstPort: dp,
		Src: src6.As16(), Dst: dst6.As16()}
}

func with(p Packet, f func(*Packet)) Packet {
	f(&p)
	return p
}

type decodeCase struct {
	name string
	link int
	data []byte
	want Packet
}

func decodeCases(tb testing.TB) []decodeCase {
	tb.Helper()
	ser := func(ls ...gopacket.SerializableLayer) []byte { tb.Helper(); return serialize(tb, ls...) }
	head := func(b []byte, n int) []byte { return b[:n] }

	// IPv4 TCP SYN/SYN-ACK/ACK and UDP, reused over the link types.
	tcpSYN4 := func() []gopacket.SerializableLayer {
		ip := ipv4(layers.IPProtocolTCP)
		return []gopacket.SerializableLayer{ip, tcp(ip, 40000, 443, FlagSYN)}
	}
	udp4 := func() []gopacket.SerializableLayer {
		ip := ipv4(layers.IPProtocolUDP)
		return []gopacket.SerializableLayer{ip, udp(ip, 5353, 53), gopacket.Payload("query")}
	}
	tcp6 := func() []gopacket.SerializableLayer {
		ip := ipv6(layers.IPProtocolTCP)
		return []gopacket.SerializableLayer{ip, tcp(ip, 51000, 22, FlagACK|0x08), gopacket.Payload("ssh")}
	}
	udp6 := func() []gopacket.SerializableLayer {
		ip := ipv6(layers.IPProtocolUDP)
		return []gopacket.SerializableLayer{ip, udp(ip, 5000, 4789)}
	}
	pre := func(h gopacket.SerializableLayer, rest []gopacket.SerializableLayer) []byte {
		return ser(append([]gopacket.SerializableLayer{h}, rest...)...)
	}
	wSYN4 := want4(6, 40000, 443, FlagSYN)
	wUDP4 := want4(17, 5353, 53, 0)
	wTCP6 := want6(6, 51000, 22, FlagACK|0x08)
	wUDP6 := want6(17, 5000, 4789, 0)

	var cases []decodeCase
	add := func(name string, link int, data []byte, want Packet) {
		cases = append(cases, decodeCase{name, link, data, want})
	}

	// Ethernet, every TCP flag combination the service-port rule looks at.
	for _, f := range []struct {
		name  string
		flags uint8
	}{{"SYN", FlagSYN}, {"SYN-ACK", FlagSYN | FlagACK}, {"ACK", FlagACK}, {"FIN-ACK", FlagFIN | FlagACK}, {"RST", FlagRST}} {
		ip := ipv4(layers.IPProtocolTCP)
		add("ethernet/ipv4/tcp/"+f.name, LinkEthernet,
			ser(ethernet(layers.EthernetTypeIPv4), ip, tcp(ip, 40000, 443, f.flags), gopacket.Payload("hello")),
			want4(6, 40000, 443, f.flags))
	}
	add("ethernet/ipv4/udp (padded to 60)", LinkEthernet, pre(ethernet(layers.EthernetTypeIPv4), udp4()), wUDP4)
	add("ethernet/ipv6/tcp", LinkEthernet, pre(ethernet(layers.EthernetTypeIPv6), tcp6()), wTCP6)
	add("ethernet/ipv6/udp", LinkEthernet, pre(ethernet(layers.EthernetTypeIPv6), udp6()), wUDP6)

	// Linux cooked v1 and v2.
	add("sll/ipv4/tcp", LinkLinuxSLL, pre(sll(0, 1, 0x0800), tcpSYN4()), wSYN4)
	add("sll/ipv6/udp", LinkLinuxSLL, pre(sll(0, 1, 0x86dd), udp6()), wUDP6)
	add("sll/loopback incoming", LinkLinuxSLL, pre(sll(0, arphrdLoopback, 0x0800), udp4()), wUDP4)
	add("sll/ethernet outgoing", LinkLinuxSLL, pre(sll(packetOutgoing, 1, 0x0800), udp4()), wUDP4)
	add("sll/loopback outgoing skipped", LinkLinuxSLL, pre(sll(packetOutgoing, arphrdLoopback, 0x0800), udp4()), Packet{Kind: Skip})
	add("sll/arp", LinkLinuxSLL, pre(sll(0, 1, 0x0806), []gopacket.SerializableLayer{gopacket.Payload(make([]byte, 28))}), Packet{})
	add("sll2/ipv4/tcp", LinkLinuxSLL2, pre(sll2(0, 1, 0x0800), tcpSYN4()), wSYN4)
	add("sll2/ipv6/udp", LinkLinuxSLL2, pre(sll2(0, 1, 0x86dd), udp6()), wUDP6)
	add("sll2/loopback incoming", LinkLinuxSLL2, pre(sll2(0, arphrdLoopback, 0x86dd), tcp6()), wTCP6)
	add("sll2/ethernet outgoing", LinkLinuxSLL2, pre(sll2(packetOutgoing, 1, 0x86dd), tcp6()), wTCP6)
	add("sll2/loopback outgoing skipped", LinkLinuxSLL2, pre(sll2(packetOutgoing, arphrdLoopback, 0x86dd), tcp6()), Packet{Kind: Skip})
	add("sll2/vlan", LinkLinuxSLL2, pre(sll2(0, 1, 0x8100), append([]gopacket.SerializableLayer{
		&layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeIPv4}}, udp4()...)), wUDP4)

	// BSD null (host byte order, either) and OpenBSD loop (network order).
	add("null/ipv4 (gopacket Loopback, little-endian)", LinkNull,
		pre(&layers.Loopback{Family: layers.ProtocolFamilyIPv4}, tcpSYN4()), wSYN4)
	add("null/ipv4 big-endian", LinkNull, pre(family4(binary.BigEndian, 2), tcpSYN4()), wSYN4)
	for _, fam := range []layers.ProtocolFamily{layers.ProtocolFamilyIPv6Linux, layers.ProtocolFamilyIPv6BSD,
		layers.ProtocolFamilyIPv6FreeBSD, layers.ProtocolFamilyIPv6Darwin} {
		add("null/ipv6 little-endian/"+strconv.Itoa(int(fam)), LinkNull,
			pre(&layers.Loopback{Family: fam}, udp6()), wUDP6)
		add("null/ipv6 big-endian/"+strconv.Itoa(int(fam)), LinkNull, pre(family4(binary.BigEndian, uint32(fam)), udp6()), wUDP6)
		add("loop/ipv6/"+strconv.Itoa(int(fam)), LinkLoop, pre(family4(binary.BigEndian, uint32(fam)), tcp6()), wTCP6)
	}
	add("loop/ipv4", LinkLoop, pre(family4(binary.BigEndian, 2), udp4()), wUDP4)
	add("null/unknown family", LinkNull, pre(family4(binary.LittleEndian, 7), udp4()), Packet{})

	// Raw IP link types.
	for _, link := range []int{LinkRaw, LinkRawOld, LinkRawOld2} {
		add("raw"+strconv.Itoa(link)+"/ipv4", link, ser(tcpSYN4()...), wSYN4)
		add("raw"+strconv.Itoa(link)+"/ipv6", link, ser(udp6()...), wUDP6)
		add("raw"+strconv.Itoa(link)+"/bad version", link, patched(ser(udp4()...), func(b []byte) { b[0] = 0x55 }), Packet{Problem: BadIP})
		add("raw"+strconv.Itoa(link)+"/empty", link, []byte{}, Packet{Problem: ShortLink})
	}
	add("ipv4 link", LinkIPv4, ser(udp4()...), wUDP4)
	add("ipv6 link", LinkIPv6, ser(tcp6()...), wTCP6)
	add("ipv4 link carrying ipv6", LinkIPv4, ser(tcp6()...), Packet{Problem: BadIP})
	add("ipv6 link carrying 30 bytes of ipv4", LinkIPv6, head(ser(tcpSYN4()...), 30), Packet{Problem: ShortIP})
	add("ipv6 link carrying ipv4", LinkIPv6, ser(append(tcpSYN4(), gopacket.Payload(make([]byte, 20)))...), Packet{Problem: BadIP})
	add("unknown link type", 9999, ser(udp4()...), Packet{Problem: UnknownLink})

	// VLAN tags.
	add("802.1Q", LinkEthernet, ser(append([]gopacket.SerializableLayer{ethernet(layers.EthernetTypeDot1Q),
		&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeIPv4}}, tcpSYN4()...)...), wSYN4)
	add("802.1Q/ipv6", LinkEthernet, ser(append([]gopacket.SerializableLayer{ethernet(layers.EthernetTypeDot1Q),
		&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeIPv6}}, tcp6()...)...), wTCP6)
	add("QinQ 0x88a8+0x8100", LinkEthernet, ser(append([]gopacket.SerializableLayer{ethernet(layers.EthernetTypeQinQ),
		&layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: 20, Type: layers.EthernetTypeIPv4}}, udp4()...)...), wUDP4)
	add("QinQ 0x9100+0x8100", LinkEthernet, ser(append([]gopacket.SerializableLayer{ethernet(0x9100),
		&layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: 20, Type: layers.EthernetTypeIPv6}}, udp6()...)...), wUDP6)
	vlans := func(n int, inner []gopacket.SerializableLayer) []byte {
		ls := []gopacket.SerializableLayer{ethernet(layers.EthernetTypeDot1Q)}
		for i := 0; i < n; i++ {
			t := layers.EthernetTypeDot1Q
			if i == n-1 {
				t = layers.EthernetTypeIPv4
			}
			ls = append(ls, &layers.Dot1Q{VLANIdentifier: uint16(i + 1), Type: t})
		}
		return ser(append(ls, inner...)...)
	}
	add("8 VLAN tags (the limit)", LinkEthernet, vlans(maxVLANTags, udp4()), wUDP4)
	add("9 VLAN tags", LinkEthernet, vlans(maxVLANTags+1, udp4()), Packet{Problem: TooManyHeaders})
	add("VLAN tag cut", LinkEthernet, head(ser(ethernet(layers.EthernetTypeDot1Q),
		&layers.Dot1Q{Type: layers.EthernetTypeIPv4}), 17), Packet{Problem: ShortLink})

	// IPv4 options.
	{
		ip := ipv4(layers.IPProtocolTCP)
		ip.Options = []layers.IPv4Option{
			{OptionType: 0x94, OptionLength: 4, OptionData: []byte{0, 0}},    // router alert
			{OptionType: 0x01, OptionLength: 1},                              // NOP
			{OptionType: 0x07, OptionLength: 7, OptionData: make([]byte, 5)}, // record route
		}
		b := ser(ethernet(layers.EthernetTypeIPv4), ip, tcp(ip, 1234, 80, FlagSYN|FlagACK))
		if ihl := b[14] & 0x0f; ihl <= 5 {
			tb.Fatalf("IPv4 options: IHL %d, want > 5", ihl)
		}
		add("ipv4 options", LinkEthernet, b, want4(6, 1234, 80, FlagSYN|FlagACK))
		add("ipv4 options cut", LinkEthernet, head(b, 14+22), Packet{Problem: ShortIP})
	}

	// IPv6 extension headers: hop-by-hop, destination options, routing.
	{
		ip := ipv6(layers.IPProtocolIPv6HopByHop)
		hbh := &layers.IPv6HopByHop{Options: padN()}
		hbh.NextHeader = layers.IPProtocolIPv6Destination
		dst := &layers.IPv6Destination{Options: []*layers.IPv6DestinationOption{{OptionType: 1, OptionData: make([]byte, 12)}}}
		dst.NextHeader = layers.IPProtocolIPv6Routing
		rt := ext6(layers.IPProtocolTCP, 2, 4) // segment routing, one segment
		b := ser(ethernet(layers.EthernetTypeIPv6), ip, hbh, dst, rt, tcp(ip, 33000, 8443, FlagSYN))
		add("ipv6 hop-by-hop+dstopts+routing", LinkEthernet, b, want6(6, 33000, 8443, FlagSYN))
		// Cut inside the routing header (14+40+8+16 = 78; routing needs 24).
		add("ipv6 extension header cut", LinkEthernet, head(b, 78+10), with(want6(43, 0, 0, 0), func(p *Packet) {
			p.Kind, p.Problem = Other, ShortIP
		}))
		add("ipv6 extension header cut before its length", LinkEthernet, head(b, 78+4), with(want6(43, 0, 0, 0), func(p *Packet) {
			p.Kind, p.Problem = Other, ShortIP
		}))
		ah := ext6(layers.IPProtocolUDP, 4, 0) // AH: (4+2)*4 = 24 bytes
		ah = ah[:24]
		ip2 := ipv6(layers.IPProtocolAH)
		add("ipv6 AH", LinkIPv6, ser(ip2, ah, udp(ip2, 500, 4500)), want6(17, 500, 4500, 0))
		chain := func(n int) []byte {
			ip := ipv6(layers.IPProtocolIPv6Destination)
			ls := []gopacket.SerializableLayer{ip}
			for i := 0; i < n; i++ {
				next := layers.IPProtocolIPv6Destination
				if i == n-1 {
					next = layers.IPProtocolUDP
				}
				ls = append(ls, ext6(next, 0, 1))
			}
			return ser(append(ls, udp(ip, 1, 2))...)
		}
		add("ipv6 15 extension headers", LinkIPv6, chain(maxIPv6Hdrs-1), want6(17, 1, 2, 0))
		add("ipv6 16 extension headers", LinkIPv6, chain(maxIPv6Hdrs), with(want6(0, 0, 0, 0), func(p *Packet) {
			p.Kind, p.Problem = Other, TooManyHeaders
		}))
		add("ipv6 no next header", LinkIPv6, ser(ipv6(layers.IPProtocolNoNextHeader)), with(want6(59, 0, 0, 0), func(p *Packet) {
			p.Kind = Other
		}))
	}

	// Not TCP/UDP: other.
	{
		ip := ipv4(layers.IPProtocolICMPv4)
		add("icmpv4", LinkEthernet, ser(ethernet(layers.EthernetTypeIPv4), ip,
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 1, Seq: 1}),
			with(want4(1, 0, 0, 0), func(p *Packet) { p.Kind = Other }))
		// An ICMP error quoting a UDP header is not the packet's own transport.
		ipq := ipv4(layers.IPProtocolUDP)
		add("icmpv4 error quoting udp", LinkEthernet, ser(ethernet(layers.EthernetTypeIPv4), ip,
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 3)}, ipq, udp(ipq, 53, 5353)),
			with(want4(1, 0, 0, 0), func(p *Packet) { p.Kind = Other }))
		ip6 := ipv6(layers.IPProtocolICMPv6)
		icmp6 := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(128, 0)}
		if err := icmp6.SetNetworkLayerForChecksum(ip6); err != nil {
			tb.Fatal(err)
		}
		add("icmpv6", LinkEthernet, ser(ethernet(layers.EthernetTypeIPv6), ip6, icmp6, gopacket.Payload("ping")),
			with(want6(58, 0, 0, 0), func(p *Packet) { p.Kind = Other }))
		add("arp", LinkEthernet, ser(ethernet(layers.EthernetTypeARP), &layers.ARP{
			AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPRequest, SourceHwAddress: srcMAC, SourceProtAddress: src4.AsSlice(),
			DstHwAddress: make([]byte, 6), DstProtAddress: dst4.AsSlice()}), Packet{})
		add("lldp ethertype", LinkEthernet, ser(ethernet(layers.EthernetTypeLinkLayerDiscovery), gopacket.Payload(make([]byte, 30))), Packet{})
		add("802.3 length field", LinkEthernet, ser(&layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeLLC},
			&layers.LLC{DSAP: 0x42, SSAP: 0x42, Control: 3}, gopacket.Payload(make([]byte, 35))), Packet{})
	}

	// IPv4 fragments.
	{
		ip := ipv4(layers.IPProtocolUDP)
		ip.Id = 0xbeef
		ip.Flags = layers.IPv4MoreFragments
		// First fragment: UDP header plus 16 bytes (UDP length says more).
		first := ser(ethernet(layers.EthernetTypeIPv4), ip, udp(ip, 7000, 7001), gopacket.Payload(make([]byte, 16)))
		add("ipv4 first fragment", LinkEthernet, first, with(want4(17, 7000, 7001, 0), func(p *Packet) {
			p.Fragmented, p.FirstFragment, p.FragID = true, true, 0xbeef
		}))
		ipt := ipv4(layers.IPProtocolTCP)
		ipt.Id = 0x0102
		ipt.Flags = layers.IPv4MoreFragments
		// A tiny first fragment carrying only 8 bytes of the TCP header.
		tiny := ser(ethernet(layers.EthernetTypeIPv4), ipt, gopacket.Payload([]byte{0x1f, 0x90, 0x00, 0x50, 0, 0, 0, 1}))
		add("ipv4 tiny first fragment", LinkEthernet, tiny, with(want4(6, 8080, 80, 0), func(p *Packet) {
			p.Fragmented, p.FirstFragment, p.FragID = true, true, 0x0102
		}))
		// A first fragment cut by the snaplen after its ports: ports read,
		// not marked Truncated (a first fragment's transport header may
		// legitimately end early).
		bigFirst := ser(ethernet(layers.EthernetTypeIPv4), ipt, tcp(ipt, 8080, 80, FlagACK), gopacket.Payload(make([]byte, 64)))
		add("ipv4 first fragment cut after ports", LinkEthernet, head(bigFirst, 14+20+6), with(want4(6, 8080, 80, 0), func(p *Packet) {
			p.Fragmented, p.FirstFragment, p.FragID = true, true, 0x0102
		}))
		add("ipv4 first fragment cut before ports", LinkEthernet, head(bigFirst, 14+20+3), with(want4(6, 0, 0, 0), func(p *Packet) {
			p.Kind, p.Problem, p.Fragmented, p.FirstFragment, p.FragID = Other, ShortTransport, true, true, 0x0102
		}))
		later := ipv4(layers.IPProtocolUDP)
		later.Id = 0xbeef
		later.FragOffset = 3 // 24 bytes
		add("ipv4 later fragment (last)", LinkEthernet, ser(ethernet(layers.EthernetTypeIPv4), later, gopacket.Payload(make([]byte, 40))),
			Packet{Kind: Fragment, IPProto: 17, Fragmented: true, FragID: 0xbeef, Src: src4.As16(), Dst: dst4.As16()})
		mid := ipv4(layers.IPProtocolTCP)
		mid.Id = 7
		mid.FragOffset = 185
		mid.Flags = layers.IPv4MoreFragments | layers.IPv4DontFragment
		// The payload looks like ports, but a later fragment has none.
		add("ipv4 later fragment (middle)", LinkEthernet, ser(ethernet(layers.EthernetTypeIPv4), mid, gopacket.Payload(make([]byte, 1480))),
			Packet{Kind: Fragment, IPProto: 6, Fragmented: true, FragID: 7, Src: src4.As16(), Dst: dst4.As16()})
		df := ipv4(layers.IPProtocolTCP)
		df.Flags = layers.IPv4DontFragment
		add("ipv4 don't fragment is not a fragment", LinkEthernet, ser(ethernet(layers.EthernetTypeIPv4), df, tcp(df, 1, 2, FlagACK)),
			want4(6, 1, 2, FlagACK))
	}

	// IPv6 fragment header.
	{
		ip := ipv6(layers.IPProtocolIPv6Fragment)
		add("ipv6 first fragment", LinkEthernet, ser(ethernet(layers.EthernetTypeIPv6), ip, frag6(layers.IPProtocolUDP, 0, true, 0xdeadbeef),
			udp(ip, 9000, 9001), gopacket.Payload(make([]byte, 64))), with(want6(17, 9000, 9001, 0), func(p *Packet) {
			p.Fragmented, p.FirstFragment, p.FragID = true, true, 0xdeadbeef
		}))
		add("ipv6 later fragment", LinkEthernet, ser(ethernet(layers.EthernetTypeIPv6), ip, frag6(layers.IPProtocolTCP, 9, true, 42),
			gopacket.Payload(make([]byte, 64))), Packet{Kind: Fragment, IPv6: true, IPProto: 6, Fragmented: true, FragID: 42,
			Src: src6.As16(), Dst: dst6.As16()})
		add("ipv6 last fragment", LinkIPv6, ser(ip, frag6(layers.IPProtocolUDP, 100, false, 43), gopacket.Payload(make([]byte, 8))),
			Packet{Kind: Fragment, IPv6: true, IPProto: 17, Fragmented: true, FragID: 43, Src: src6.As16(), Dst: dst6.As16()})
		add("ipv6 atomic fragment", LinkIPv6, ser(ip, frag6(layers.IPProtocolTCP, 0, false, 44), tcp(ip, 443, 50000, FlagSYN|FlagACK)),
			want6(6, 443, 50000, FlagSYN|FlagACK))
		hbh := &layers.IPv6HopByHop{Options: padN()}
		hbh.NextHeader = layers.IPProtocolIPv6Fragment
		ip2 := ipv6(layers.IPProtocolIPv6HopByHop)
		add("ipv6 hop-by-hop then first fragment", LinkIPv6, ser(ip2, hbh, frag6(layers.IPProtocolTCP, 0, true, 45),
			tcp(ip2, 1000, 2000, FlagACK)), with(want6(6, 1000, 2000, FlagACK), func(p *Packet) {
			p.Fragmented, p.FirstFragment, p.FragID = true, true, 45
		}))
		// RFC 8200: the fragment header names the first header of the
		// fragmentable part, here destination options. A later fragment
		// then reports IPProto 60 while its first fragment, read through
		// the destination options, reports 6: fragments of IPv6 must be
		// matched on addresses and FragID, not on IPProto.
		dopts := ext6(layers.IPProtocolTCP, 0, 1)
		add("ipv6 first fragment, destination options after fragment header", LinkIPv6,
			ser(ip, frag6(layers.IPProtocolIPv6Destination, 0, true, 49), dopts, tcp(ip, 443, 40000, FlagACK)),
			with(want6(6, 443, 40000, FlagACK), func(p *Packet) { p.Fragmented, p.FirstFragment, p.FragID = true, true, 49 }))
		add("ipv6 later fragment, destination options after fragment header", LinkIPv6,
			ser(ip, frag6(layers.IPProtocolIPv6Destination, 20, false, 49), gopacket.Payload(make([]byte, 16))),
			Packet{Kind: Fragment, IPv6: true, IPProto: 60, Fragmented: true, FragID: 49, Src: src6.As16(), Dst: dst6.As16()})
		// A packet is fragmented once; two fragment headers are malformed
		// (found by FuzzDecode: the result was a later fragment that was
		// also the first).
		add("ipv6 two fragment headers, first then later", LinkIPv6, ser(ip, frag6(layers.IPProtocolIPv6Fragment, 0, true, 47),
			frag6(layers.IPProtocolTCP, 9, true, 48), gopacket.Payload(make([]byte, 16))),
			with(want6(44, 0, 0, 0), func(p *Packet) { p.Kind, p.Problem = Other, BadIP }))
		add("ipv6 two fragment headers, both first", LinkIPv6, ser(ip, frag6(layers.IPProtocolIPv6Fragment, 0, true, 47),
			frag6(layers.IPProtocolUDP, 0, true, 48), udp(ip, 1, 2)),
			with(want6(44, 0, 0, 0), func(p *Packet) { p.Kind, p.Problem = Other, BadIP }))
		add("ipv6 fragment header cut", LinkIPv6, head(ser(ip, frag6(layers.IPProtocolTCP, 0, true, 46)), 40+7),
			with(want6(44, 0, 0, 0), func(p *Packet) { p.Kind, p.Problem = Other, ShortIP }))
	}

	// Transport header cut short (snaplen): the IP total length says more
	// than was captured.
	{
		ip := ipv4(layers.IPProtocolTCP)
		full := ser(ethernet(layers.EthernetTypeIPv4), ip, tcp(ip, 40000, 443, FlagSYN|FlagACK), gopacket.Payload(make([]byte, 100)))
		add("tcp cut after ports", LinkEthernet, head(full, 14+20+4), with(want4(6, 40000, 443, 0), func(p *Packet) { p.Truncated = true }))
		add("tcp cut after flags", LinkEthernet, head(full, 14+20+14), with(want4(6, 40000, 443, FlagSYN|FlagACK), func(p *Packet) { p.Truncated = true }))
		add("tcp cut before flags", LinkEthernet, head(full, 14+20+13), with(want4(6, 40000, 443, 0), func(p *Packet) { p.Truncated = true }))
		add("tcp cut after header (snaplen)", LinkEthernet, head(full, 14+20+20+10), want4(6, 40000, 443, FlagSYN|FlagACK))
		add("tcp cut before ports", LinkEthernet, head(full, 14+20+3), with(want4(6, 0, 0, 0), func(p *Packet) {
			p.Kind, p.Problem = Other, ShortTransport
		}))
		add("tcp no transport bytes", LinkEthernet, head(full, 14+20), with(want4(6, 0, 0, 0), func(p *Packet) {
			p.Kind, p.Problem = Other, ShortTransport
		}))
		ipu := ipv6(layers.IPProtocolUDP)
		fullu := ser(ipu, udp(ipu, 123, 123), gopacket.Payload(make([]byte, 48)))
		add("ipv6 udp cut after ports", LinkRaw, head(fullu, 40+6), with(want6(17, 123, 123, 0), func(p *Packet) { p.Truncated = true }))
		add("ipv6 udp cut before ports", LinkRaw, head(fullu, 40+2), with(want6(17, 0, 0, 0), func(p *Packet) {
			p.Kind, p.Problem = Other, ShortTransport
		}))
	}

	// IP total length shorter than what was captured: Ethernet padding is
	// not transport.
	{
		ip := ipv4(layers.IPProtocolTCP)
		// IPv4 header claiming 2 transport bytes, padded to 60 by Ethernet.
		b := ser(ethernet(layers.EthernetTypeIPv4), ip, gopacket.Payload([]byte{0x01, 0xbb}))
		if len(b) != 60 {
			tb.Fatalf("padded frame is %d bytes, want 60", len(b))
		}
		copy(b[14+22:], []byte{0x01, 0xbb, 0x00, 0x50}) // padding that looks like ports
		add("ipv4 total length shorter than capture (padding)", LinkEthernet, b, with(want4(6, 0, 0, 0), func(p *Packet) {
			p.Kind, p.Problem = Other, ShortTransport
		}))
		ipu := ipv4(layers.IPProtocolUDP)
		add("ipv4 udp with padding", LinkEthernet, ser(ethernet(layers.EthernetTypeIPv4), ipu, udp(ipu, 67, 68)), want4(17, 67, 68, 0))
		ipt := ipv4(layers.IPProtocolTCP)
		// Total length = IP + 10 TCP bytes; 30 more (padding, trailer) captured.
		bt := append(ser(ipt, tcp(ipt, 22, 50000, FlagACK)), make([]byte, 30)...)
		binary.BigEndian.PutUint16(bt[2:], 30)
		add("ipv4 total length inside tcp header", LinkRaw, bt, with(want4(6, 22, 50000, 0), func(p *Packet) { p.Truncated = true }))
		ip6 := ipv6(layers.IPProtocolTCP)
		b6 := append(ser(ip6, gopacket.Payload([]byte{0, 1})), 0x01, 0xbb, 0x00, 0x50, 0, 0)
		add("ipv6 payload length shorter than capture", LinkIPv6, b6, with(want6(6, 0, 0, 0), func(p *Packet) {
			p.Kind, p.Problem = Other, ShortTransport
		}))
		b6z := ser(ip6, tcp(ip6, 80, 1024, FlagACK))
		binary.BigEndian.PutUint16(b6z[4:], 0) // jumbogram / TSO: length unknown
		add("ipv6 payload length zero", LinkIPv6, b6z, want6(6, 80, 1024, FlagACK))
		b4z := ser(ipt, tcp(ipt, 80, 1024, FlagACK))
		binary.BigEndian.PutUint16(b4z[2:], 0) // TSO: total length zero
		add("ipv4 total length zero", LinkIPv4, b4z, want4(6, 80, 1024, FlagACK))
	}

	// Truncated and malformed link and IP headers.
	{
		e := ser(append([]gopacket.SerializableLayer{ethernet(layers.EthernetTypeIPv4)}, tcpSYN4()...)...)
		add("ethernet cut", LinkEthernet, head(e, 13), Packet{Problem: ShortLink})
		add("ethernet empty", LinkEthernet, nil, Packet{Problem: ShortLink})
		add("sll cut", LinkLinuxSLL, head(pre(sll(0, 1, 0x0800), tcpSYN4()), 15), Packet{Problem: ShortLink})
		add("sll2 cut", LinkLinuxSLL2, head(pre(sll2(0, 1, 0x0800), tcpSYN4()), 19), Packet{Problem: ShortLink})
		add("null cut", LinkNull, []byte{2, 0, 0}, Packet{Problem: ShortLink})
		add("loop cut", LinkLoop, []byte{0, 0, 0}, Packet{Problem: ShortLink})
		add("ipv4 header cut", LinkEthernet, head(e, 14+19), Packet{Problem: ShortIP})
		add("ipv4 header missing", LinkEthernet, head(e, 14), Packet{Problem: ShortIP})
		add("ipv4 link empty", LinkIPv4, nil, Packet{Problem: ShortIP})
		add("ipv6 header cut", LinkEthernet, head(pre(ethernet(layers.EthernetTypeIPv6), udp6()), 14+39), Packet{Problem: ShortIP})
		add("ipv4 bad version", LinkEthernet, patched(e, func(b []byte) { b[14] = 0x65 }), Packet{Problem: BadIP})
		add("ipv4 IHL 4", LinkEthernet, patched(e, func(b []byte) { b[14] = 0x44 }), Packet{Problem: BadIP})
		add("ipv4 IHL 15 beyond capture", LinkEthernet, patched(e, func(b []byte) { b[14] = 0x4f }), Packet{Problem: ShortIP})
		add("ipv4 total length shorter than its header", LinkEthernet, patched(e, func(b []byte) { b[14+3] = 19 }), Packet{Problem: BadIP})
		add("ipv4 total length shorter than its options", LinkEthernet, patched(e, func(b []byte) { b[14] = 0x46; b[14+3] = 20 }),
			Packet{Problem: BadIP})
		add("ipv6 bad version", LinkEthernet, patched(pre(ethernet(layers.EthernetTypeIPv6), udp6()), func(b []byte) { b[14] = 0x45 }),
			Packet{Problem: BadIP})
	}
	return cases
}

// patched returns a copy of b changed by f.
func patched(b []byte, f func([]byte)) []byte {
	c := append([]byte(nil), b...)
	f(c)
	return c
}

func TestDecode(t *testing.T) {
	for _, c := range decodeCases(t) {
		t.Run(c.name, func(t *testing.T) {
			var p Packet
			p.Kind, p.SrcPort = Fragment, 9 // Decode must reset p
			Decode(c.link, c.data, &p)
			if p != c.want {
				t.Errorf("Decode(%d, % x)\n got %+v\nwant %+v", c.link, c.data, p, c.want)
			}
			checkInvariants(t, c.data, &p)
			// Addresses come back IPv4-mapped for IPv4, and unmap to what
			// the packet was built with.
			if p.Kind == Transport || p.Kind == Fragment {
				src, dst := netip.AddrFrom16(p.Src).Unmap(), netip.AddrFrom16(p.Dst).Unmap()
				wantSrc, wantDst := src4, dst4
				if p.IPv6 {
					wantSrc, wantDst = src6, dst6
				} else if !netip.AddrFrom16(p.Src).Is4In6() {
					t.Errorf("IPv4 source %v is not IPv4-mapped", netip.AddrFrom16(p.Src))
				}
				if src != wantSrc || dst != wantDst {
					t.Errorf("addresses %v -> %v, want %v -> %v", src, dst, wantSrc, wantDst)
				}
			}
		})
	}
}

// checkInvariants holds for every result of Decode, whatever the input.
func checkInvariants(tb testing.TB, data []byte, p *Packet) {
	tb.Helper()
	fail := func(what string) { tb.Errorf("invariant %s broken for % x: %+v", what, data, *p) }
	if p.Kind > Skip {
		fail("Kind in range")
	}
	if p.Problem > TooManyHeaders {
		fail("Problem in range")
	}
	if p.Kind == Transport && p.IPProto != 6 && p.IPProto != 17 {
		fail("Transport => TCP or UDP")
	}
	if p.Kind == Transport && p.Problem != NoProblem {
		fail("Transport => NoProblem")
	}
	if p.Truncated && p.Kind != Transport {
		fail("Truncated => Transport")
	}
	if p.Kind != Transport && (p.SrcPort != 0 || p.DstPort != 0 || p.TCPFlags != 0) {
		fail("ports and flags only for Transport")
	}
	if p.TCPFlags != 0 && p.IPProto != 6 {
		fail("TCP flags only for TCP")
	}
	if p.Kind == Fragment && (!p.Fragmented || p.FirstFragment || p.Problem != NoProblem) {
		fail("Fragment => Fragmented, not first, NoProblem")
	}
	if p.FirstFragment && !p.Fragmented {
		fail("FirstFragment => Fragmented")
	}
	if !p.Fragmented && p.FragID != 0 {
		fail("FragID only for fragments")
	}
	if p.Kind == Skip && *p != (Packet{Kind: Skip}) {
		fail("Skip carries nothing")
	}
	if (p.Kind == Transport || p.Kind == Fragment) && !p.IPv6 && !netip.AddrFrom16(p.Src).Is4In6() {
		fail("IPv4 addresses are IPv4-mapped")
	}
	if p.Problem == ShortLink || p.Problem == UnknownLink {
		if *p != (Packet{Problem: p.Problem}) {
			fail("link problems carry nothing")
		}
	}
	if !p.IPv6 && !netip.AddrFrom16(p.Src).Is4In6() && p.Src != ([16]byte{}) {
		fail("IPv4 source is zero or IPv4-mapped")
	}
}
