package decode

import (
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// benchPackets is a realistic mix of Ethernet frames as a 128-byte snaplen
// keeps them: IPv4 TCP (data and a SYN with options), IPv6 UDP, and IPv4 TCP
// and IPv6 TCP behind an 802.1Q tag.
func benchPackets(tb testing.TB) [][]byte {
	tb.Helper()
	snap := func(b []byte) []byte {
		if len(b) > 128 {
			b = b[:128]
		}
		return b
	}
	ip4 := ipv4(layers.IPProtocolTCP)
	data4 := serialize(tb, ethernet(layers.EthernetTypeIPv4), ip4, tcp(ip4, 443, 51234, FlagACK|0x08), gopacket.Payload(make([]byte, 1400)))
	syn := tcp(ip4, 51234, 443, FlagSYN)
	syn.Options = []layers.TCPOption{
		{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}},
		{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
		{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
	}
	syn4 := serialize(tb, ethernet(layers.EthernetTypeIPv4), ip4, syn)
	ip6 := ipv6(layers.IPProtocolUDP)
	udp6 := serialize(tb, ethernet(layers.EthernetTypeIPv6), ip6, udp(ip6, 53, 40000), gopacket.Payload(make([]byte, 120)))
	vlan4 := serialize(tb, ethernet(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 42, Type: layers.EthernetTypeIPv4},
		ip4, tcp(ip4, 40000, 8080, FlagACK), gopacket.Payload(make([]byte, 600)))
	ip6t := ipv6(layers.IPProtocolTCP)
	vlan6 := serialize(tb, ethernet(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 42, Type: layers.EthernetTypeIPv6},
		ip6t, tcp(ip6t, 22, 50000, FlagACK|0x08), gopacket.Payload(make([]byte, 200)))
	return [][]byte{snap(data4), syn4, snap(udp6), snap(vlan4), snap(vlan6)}
}

// dlp is gopacket's DecodingLayerParser over preallocated layers, the
// alternative to Decode that the benchmark compares against.
type dlp struct {
	eth     layers.Ethernet
	dot1q   layers.Dot1Q
	ip4     layers.IPv4
	ip6     layers.IPv6
	tcp     layers.TCP
	udp     layers.UDP
	parser  *gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

func newDLP() *dlp {
	d := &dlp{decoded: make([]gopacket.LayerType, 0, 8)}
	d.parser = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &d.eth, &d.dot1q, &d.ip4, &d.ip6, &d.tcp, &d.udp)
	d.parser.IgnoreUnsupported = true
	return d
}

// decode fills the fields of p that porttop needs from what the parser
// decoded, so that both benchmarks do the same work.
func (d *dlp) decode(data []byte, p *Packet) {
	*p = Packet{}
	_ = d.parser.DecodeLayers(data, &d.decoded)
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			p.IPProto = uint8(d.ip4.Protocol)
			p.Src = netip.AddrFrom4([4]byte(d.ip4.SrcIP.To4())).As16()
			p.Dst = netip.AddrFrom4([4]byte(d.ip4.DstIP.To4())).As16()
		case layers.LayerTypeIPv6:
			p.IPv6 = true
			p.IPProto = uint8(d.ip6.NextHeader)
			p.Src = [16]byte(d.ip6.SrcIP)
			p.Dst = [16]byte(d.ip6.DstIP)
		case layers.LayerTypeTCP:
			p.Kind = Transport
			p.SrcPort, p.DstPort = uint16(d.tcp.SrcPort), uint16(d.tcp.DstPort)
			p.TCPFlags = d.tcp.Contents[13]
		case layers.LayerTypeUDP:
			p.Kind = Transport
			p.SrcPort, p.DstPort = uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
		}
	}
}

// TestBenchPackets checks that both decoders read the benchmark packets
// alike, so the benchmarks compare equal work.
func TestBenchPackets(t *testing.T) {
	d := newDLP()
	for i, b := range benchPackets(t) {
		var got, want Packet
		Decode(LinkEthernet, b, &got)
		d.decode(b, &want)
		if got != want || got.Kind != Transport {
			t.Errorf("packet %d: Decode %+v\nDecodingLayerParser %+v", i, got, want)
		}
	}
}

// TestDecodeAllocs fails if Decode allocates, on any of the crafted
// packets (well-formed, truncated and malformed) or the random ones.
func TestDecodeAllocs(t *testing.T) {
	type frame struct {
		link int
		data []byte
	}
	var frames []frame
	for _, c := range decodeCases(t) {
		frames = append(frames, frame{c.link, c.data})
	}
	for _, b := range benchPackets(t) {
		frames = append(frames, frame{LinkEthernet, b})
	}
	var p Packet
	allocs := testing.AllocsPerRun(100, func() {
		for _, f := range frames {
			Decode(f.link, f.data, &p)
		}
	})
	if allocs != 0 {
		t.Errorf("Decode allocates: %v allocations per run over %d frames, want 0", allocs, len(frames))
	}
}

var sink Packet

func BenchmarkDecode(b *testing.B) {
	pkts := benchPackets(b)
	var p Packet
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		Decode(LinkEthernet, pkts[i%len(pkts)], &p)
		i++
	}
	sink = p
}

func BenchmarkGopacketDLP(b *testing.B) {
	pkts := benchPackets(b)
	d := newDLP()
	var p Packet
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.decode(pkts[i%len(pkts)], &p)
		i++
	}
	sink = p
}
