package pcapgen

import (
	"fmt"
	"net"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/porttop/porttop/internal/key"
)

func tcpKey(p uint16) key.Key { return key.Key{Proto: key.TCP, Port: p, Side: key.Local} }
func udpKey(p uint16) key.Key { return key.Key{Proto: key.UDP, Port: p, Side: key.Local} }

// tcp4 writes one IPv4 TCP segment from src:sport to dst:dport.
func (g *Generator) tcp4(lab Label, src, dst net.IP, sport, dport uint16, flags, payload int) {
	ip := IPv4(src, dst, layers.IPProtocolTCP)
	t := TCP(sport, dport, flags)
	t.SetNetworkLayerForChecksum(ip)
	g.Write(lab, Eth(layers.EthernetTypeIPv4), ip, t, Payload(payload))
}

// conversation writes a TCP exchange between a client and a service end:
// optionally the handshake, then rounds of request/response, then FIN.
func (g *Generator) conversation(k key.Key, flow string, cli, srv net.IP, cport, sport uint16, handshake bool, rounds, req, resp int) {
	in := Label{Key: k, Dir: key.Rx, Flow: flow}
	out := Label{Key: k, Dir: key.Tx, Flow: flow}
	if handshake {
		g.tcp4(in, cli, srv, cport, sport, SYN, 0)
		g.tcp4(out, srv, cli, sport, cport, SYNACK, 0)
		g.tcp4(in, cli, srv, cport, sport, ACK, 0)
	}
	for i := 0; i < rounds; i++ {
		g.tcp4(in, cli, srv, cport, sport, PSHACK, req)
		g.tcp4(out, srv, cli, sport, cport, PSHACK, resp)
	}
	g.tcp4(in, cli, srv, cport, sport, FINACK, 0)
	g.tcp4(out, srv, cli, sport, cport, FINACK, 0)
}

// Testdata writes porttop's reference scenario: one or more packets for
// each case of the service-port rule, link-layer tags, IPv6, fragments,
// truncation and "other" traffic. See the comments for what each tests.
func Testdata(g *Generator) error {
	// Rule 2: a SYN from 3000 to 45000 makes 45000 the service port,
	// although rule 3 alone would pick the lower port 3000.
	g.conversation(tcpKey(45000), "syn", IP4A, IP4B, 3000, 45000, true, 3, 100, 1000)
	// Rule 2, SYN-ACK seen first (capture started mid-handshake): its
	// source 46000 is the service end.
	lab := Label{Key: tcpKey(46000), Flow: "synack"}
	lab.Dir = key.Tx
	g.tcp4(lab, IP4B, IP4A, 46000, 3001, SYNACK, 0)
	lab.Dir = key.Rx
	g.tcp4(lab, IP4A, IP4B, 3001, 46000, ACK, 0)
	g.tcp4(lab, IP4A, IP4B, 3001, 46000, PSHACK, 50)
	// Rule 3a: exactly one port below 1024 (HTTPS seen mid-stream).
	g.conversation(tcpKey(443), "https", IP4A, IP4B, 51000, 443, false, 4, 200, 1400)
	// Rule 3b: exactly one named port (postgresql 5432 vs 40002).
	g.conversation(tcpKey(5432), "pg", IP4A, IP4B, 40002, 5432, false, 2, 60, 300)

	// DNS over UDP: three distinct client ports = three connections.
	for i := uint16(0); i < 3; i++ {
		flow := fmt.Sprintf("dns%d", i)
		q := UDP(40000+i, 53)
		ip := IPv4(IP4A, IP4B, layers.IPProtocolUDP)
		q.SetNetworkLayerForChecksum(ip)
		g.Write(Label{Key: udpKey(53), Dir: key.Rx, Flow: flow}, Eth(layers.EthernetTypeIPv4), ip, q, Payload(40))
		r := UDP(53, 40000+i)
		ip = IPv4(IP4B, IP4A, layers.IPProtocolUDP)
		r.SetNetworkLayerForChecksum(ip)
		g.Write(Label{Key: udpKey(53), Dir: key.Tx, Flow: flow}, Eth(layers.EthernetTypeIPv4), ip, r, Payload(120))
	}

	// IPv6 with a handshake on port 80, and a hop-by-hop header.
	for i, dir := range []key.Dir{key.Rx, key.Tx, key.Rx, key.Rx, key.Tx} {
		flags := []int{SYN, SYNACK, ACK, PSHACK, PSHACK}[i]
		src, dst, sp, dp := IP6A, IP6B, uint16(50000), uint16(80)
		if dir == key.Tx {
			src, dst, sp, dp = IP6B, IP6A, 80, 50000
		}
		ip := IPv6(src, dst, layers.IPProtocolTCP)
		t := TCP(sp, dp, flags)
		t.SetNetworkLayerForChecksum(ip)
		g.Write(Label{Key: tcpKey(80), Dir: dir, Flow: "v6"}, Eth(layers.EthernetTypeIPv6), ip, t, Payload(i*100))
	}
	{
		ip := IPv6(IP6A, IP6B, layers.IPProtocolIPv6HopByHop)
		hop := &layers.IPv6HopByHop{}
		hop.NextHeader = layers.IPProtocolUDP
		hop.Options = []*layers.IPv6HopByHopOption{{OptionType: 1, OptionLength: 4, OptionData: []byte{0, 0, 0, 0}}}
		u := UDP(50001, 123)
		u.SetNetworkLayerForChecksum(ip)
		g.Write(Label{Key: udpKey(123), Dir: key.Rx, Flow: "ntp6"}, Eth(layers.EthernetTypeIPv6), ip, hop, u, Payload(48))
	}

	// 802.1Q: rule 3b, 8080 (http-alt) against 40001.
	for i := 0; i < 2; i++ {
		ip := IPv4(IP4A, IP4B, layers.IPProtocolTCP)
		t := TCP(40001, 8080, PSHACK)
		t.SetNetworkLayerForChecksum(ip)
		g.Write(Label{Key: tcpKey(8080), Dir: key.Rx, Flow: "vlan"},
			Eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeIPv4}, ip, t, Payload(300))
	}
	// QinQ: rule 3c, the lower of 20000 and 30000.
	for _, dir := range []key.Dir{key.Rx, key.Tx} {
		sp, dp, src, dst := uint16(30000), uint16(20000), IP4A, IP4B
		if dir == key.Tx {
			sp, dp, src, dst = 20000, 30000, IP4B, IP4A
		}
		ip := IPv4(src, dst, layers.IPProtocolUDP)
		u := UDP(sp, dp)
		u.SetNetworkLayerForChecksum(ip)
		g.Write(Label{Key: udpKey(20000), Dir: dir, Flow: "qinq"},
			&layers.Ethernet{SrcMAC: MACA, DstMAC: MACB, EthernetType: layers.EthernetTypeQinQ},
			&layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 20, Type: layers.EthernetTypeIPv4}, ip, u, Payload(64))
	}
	// Equal ports: the destination is the service end, so both ways are rx.
	for _, fwd := range []bool{true, false} {
		src, dst := IP4A, IP4B
		if !fwd {
			src, dst = IP4B, IP4A
		}
		ip := IPv4(src, dst, layers.IPProtocolUDP)
		u := UDP(7000, 7000)
		u.SetNetworkLayerForChecksum(ip)
		g.Write(Label{Key: udpKey(7000), Dir: key.Rx, Flow: "equal"}, Eth(layers.EthernetTypeIPv4), ip, u, Payload(10))
	}

	// IPv4 fragments: a UDP datagram to 4789 in three fragments; the later
	// ones count under the first one's row. Then a later fragment whose
	// first fragment was never seen: other.
	g.fragments(Label{Key: udpKey(4789), Dir: key.Rx, Flow: "frag"}, 0x1234, true)
	g.fragments(Label{Other: true, Dir: key.Rx}, 0x4321, false)

	// A TCP header cut by the snaplen after its ports: still counted.
	{
		ip := IPv4(IP4A, IP4B, layers.IPProtocolTCP)
		t := TCP(52000, 22, PSHACK)
		t.SetNetworkLayerForChecksum(ip)
		g.WriteCut(Label{Key: tcpKey(22), Dir: key.Rx, Flow: "cut"}, 14+20+4, Eth(layers.EthernetTypeIPv4), ip, t, Payload(500))
		// ... and one cut before its ports: other.
		g.WriteCut(Label{Other: true, Dir: key.Rx}, 14+20+2, Eth(layers.EthernetTypeIPv4), ip, t, Payload(500))
	}

	// Other traffic: ICMP echo, an ICMP error quoting a TCP header, ARP.
	{
		ip := IPv4(IP4A, IP4B, layers.IPProtocolICMPv4)
		g.Write(Label{Other: true, Dir: key.Rx}, Eth(layers.EthernetTypeIPv4), ip,
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 1, Seq: 1}, Payload(56))
		quoted := IPv4(IP4B, IP4A, layers.IPProtocolTCP)
		qt := TCP(443, 51000, ACK)
		qt.SetNetworkLayerForChecksum(quoted)
		inner := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(inner, gopacket.SerializeOptions{FixLengths: true}, quoted, qt); err != nil {
			return err
		}
		g.Write(Label{Other: true, Dir: key.Rx}, Eth(layers.EthernetTypeIPv4), IPv4(IP4A, IP4B, layers.IPProtocolICMPv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 3)}, gopacket.Payload(inner.Bytes()[:28]))
		g.Write(Label{Other: true, Dir: key.Rx}, Eth(layers.EthernetTypeARP), &layers.ARP{
			AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: 1, SourceHwAddress: MACA, SourceProtAddress: IP4A, DstHwAddress: make([]byte, 6), DstProtAddress: IP4B,
		})
	}
	return g.Err()
}

// fragments writes a UDP datagram as three IPv4 fragments (or, when first
// is false, only the two later ones), all counted as lab.
func (g *Generator) fragments(lab Label, id uint16, first bool) {
	ip := IPv4(IP4A, IP4B, layers.IPProtocolUDP)
	u := UDP(50001, 4789)
	u.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, u, Payload(2000)); err != nil {
		g.err = err
		return
	}
	data := buf.Bytes()
	const chunk = 800 // a multiple of 8
	for off := 0; off < len(data); off += chunk {
		end := min(off+chunk, len(data))
		if off == 0 && !first {
			continue
		}
		fip := IPv4(IP4A, IP4B, layers.IPProtocolUDP)
		fip.Id = id
		fip.FragOffset = uint16(off / 8)
		if end < len(data) {
			fip.Flags = layers.IPv4MoreFragments
		}
		g.Write(lab, Eth(layers.EthernetTypeIPv4), fip, gopacket.Payload(data[off:end]))
	}
}

// WriteCut writes a frame whose capture keeps only capLen bytes.
func (g *Generator) WriteCut(lab Label, capLen int, ls ...gopacket.SerializableLayer) {
	old := g.Snaplen
	g.Snaplen = capLen
	g.Write(lab, ls...)
	g.Snaplen = old
}

// Bench writes n packets of a mix shaped like a busy server's traffic with
// a 128-byte snaplen in mind: ports many TCP service ports (10000 up)
// each with one client connection opened by a SYN, then full-size data
// segments toward the service and ACKs back, plus DNS over UDP. Frames are
// serialised once per port and reused, so generating millions is quick.
func Bench(g *Generator, n, ports int) error {
	if ports < 1 || ports > 50000 {
		return fmt.Errorf("ports %d out of range 1-50000", ports)
	}
	type tmpl struct {
		k              key.Key
		flow           string
		syn, data, ack []byte
	}
	ser := func(ls ...gopacket.SerializableLayer) []byte {
		b := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(b, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
			g.err = err
		}
		return append([]byte(nil), b.Bytes()...)
	}
	seg := func(src, dst net.IP, sp, dp uint16, flags, payload int) []byte {
		ip := IPv4(src, dst, layers.IPProtocolTCP)
		t := TCP(sp, dp, flags)
		t.SetNetworkLayerForChecksum(ip)
		return ser(Eth(layers.EthernetTypeIPv4), ip, t, Payload(payload))
	}
	ts := make([]tmpl, ports)
	for i := range ts {
		sp, cp := uint16(10000+i), uint16(60000-i)
		ts[i] = tmpl{
			k:    tcpKey(sp),
			flow: fmt.Sprint(i),
			syn:  seg(IP4A, IP4B, cp, sp, SYN, 0),
			data: seg(IP4A, IP4B, cp, sp, PSHACK, 1460),
			ack:  seg(IP4B, IP4A, sp, cp, ACK, 0),
		}
	}
	dnsIP := IPv4(IP4A, IP4B, layers.IPProtocolUDP)
	dnsU := UDP(40000, 53)
	dnsU.SetNetworkLayerForChecksum(dnsIP)
	dns := ser(Eth(layers.EthernetTypeIPv4), dnsIP, dnsU, Payload(40))
	if g.err != nil {
		return g.err
	}
	written := 0
	for i := range ts {
		if written == n {
			return g.Err()
		}
		g.WriteRaw(Label{Key: ts[i].k, Dir: key.Rx, Flow: ts[i].flow}, ts[i].syn)
		written++
	}
	for j := 0; written < n; j++ {
		t := &ts[j%ports]
		switch j % 8 {
		case 7:
			g.WriteRaw(Label{Key: udpKey(53), Dir: key.Rx, Flow: "dns"}, dns)
		case 1, 3, 5:
			g.WriteRaw(Label{Key: t.k, Dir: key.Tx, Flow: t.flow}, t.ack)
		default:
			g.WriteRaw(Label{Key: t.k, Dir: key.Rx, Flow: t.flow}, t.data)
		}
		written++
	}
	return g.Err()
}
