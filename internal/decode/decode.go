// Package decode reads the headers porttop needs from a raw frame — link
// layer, VLAN tags, IPv4/IPv6 (options, extension headers, fragments) and
// the TCP/UDP ports and flags — without allocating.
//
// It is a specialised header reader rather than gopacket's
// DecodingLayerParser: porttop needs only a few fields, must read the ports
// of a first IP fragment and of a transport header cut short by the snaplen
// (which gopacket's layers refuse to decode), and the benchmark favours it
// (see docs/ARCHITECTURE.md). Tests build their packets with gopacket's
// layers, so the two are checked against each other.
package decode

import "encoding/binary"

// Link types (LINKTYPE_/DLT_ numbers) understood by Decode.
const (
	LinkNull      = 0   // BSD loopback: 4-byte address family, host byte order
	LinkEthernet  = 1   // Ethernet II / 802.3
	LinkRawOld    = 12  // raw IP (DLT_RAW on most BSDs)
	LinkRawOld2   = 14  // raw IP (DLT_RAW on OpenBSD)
	LinkRaw       = 101 // LINKTYPE_RAW: raw IPv4 or IPv6
	LinkLoop      = 108 // OpenBSD loopback: 4-byte address family, network byte order
	LinkLinuxSLL  = 113 // Linux cooked capture v1 ("any")
	LinkIPv4      = 228 // raw IPv4
	LinkIPv6      = 229 // raw IPv6
	LinkLinuxSLL2 = 276 // Linux cooked capture v2
)

// Kind says what Decode found.
type Kind uint8

const (
	// Other: not TCP/UDP (ARP, ICMP, ...), or headers too short to reach
	// the ports. Counted under "other".
	Other Kind = iota
	// Transport: a TCP or UDP packet whose ports were read (this includes
	// first IP fragments and transport headers cut short after the ports).
	Transport
	// Fragment: a later IP fragment (offset > 0). Its ports are in the
	// first fragment; FragID, IPProto and the addresses identify it.
	Fragment
	// Skip: a duplicate that must not be counted (the outgoing copy of a
	// loopback packet on Linux's "any" pseudo-interface).
	Skip
)

// Problem records why a frame could not be decoded completely.
type Problem uint8

// Decode problems. Problem is NoProblem for a well-formed packet.
const (
	NoProblem      Problem = iota
	ShortLink              // frame shorter than its link-layer header
	UnknownLink            // link type not supported
	BadIP                  // IP version/header length inconsistent
	ShortIP                // IP header cut short
	ShortTransport         // transport header cut before the ports
	TooManyHeaders         // VLAN or IPv6 extension header chain too long
)

// Packet holds what Decode read from one frame. Addresses are 16 bytes;
// IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d), like netip.
type Packet struct {
	Kind    Kind
	Problem Problem
	// IPv6 is true for IPv6 packets (false for IPv4).
	IPv6 bool
	// IPProto is the transport protocol number (6 TCP, 17 UDP, ...), the
	// upper-layer protocol for fragments.
	IPProto uint8
	// TCPFlags holds the TCP flag byte (FIN 0x01, SYN 0x02, RST 0x04,
	// PSH 0x08, ACK 0x10), zero when not captured.
	TCPFlags uint8
	// Truncated is true when the transport header was cut short but its
	// ports were captured.
	Truncated bool
	// Fragmented is true for any IP fragment; FirstFragment for the one at
	// offset 0 (which carries the ports).
	Fragmented    bool
	FirstFragment bool
	// FragID is the IPv4 identification or IPv6 fragment header id.
	FragID           uint32
	SrcPort, DstPort uint16
	Src, Dst         [16]byte
}

// TCP flag bits.
const (
	FlagFIN = 0x01
	FlagSYN = 0x02
	FlagRST = 0x04
	FlagACK = 0x10
)

// Linux packet types (sll_pkttype) and the loopback hardware type.
const (
	packetOutgoing = 4
	arphrdLoopback = 772
)

// Limits on header chains, so a crafted packet cannot loop.
const (
	maxVLANTags  = 8
	maxIPv6Hdrs  = 16
	etherTypeIP4 = 0x0800
	etherTypeIP6 = 0x86dd
)

// Decode reads data, a frame of the given link type, into p. It never
// allocates and never panics on malformed input; what it could not read is
// reported in p.Kind and p.Problem.
func Decode(linkType int, data []byte, p *Packet) {
	*p = Packet{}
	var etherType uint16
	switch linkType {
	case LinkEthernet:
		if len(data) < 14 {
			p.Problem = ShortLink
			return
		}
		etherType = binary.BigEndian.Uint16(data[12:14])
		data = data[14:]
	case LinkLinuxSLL:
		if len(data) < 16 {
			p.Problem = ShortLink
			return
		}
		if binary.BigEndian.Uint16(data[0:2]) == packetOutgoing &&
			binary.BigEndian.Uint16(data[2:4]) == arphrdLoopback {
			p.Kind = Skip
			return
		}
		etherType = binary.BigEndian.Uint16(data[14:16])
		data = data[16:]
	case LinkLinuxSLL2:
		if len(data) < 20 {
			p.Problem = ShortLink
			return
		}
		if data[10] == packetOutgoing && binary.BigEndian.Uint16(data[8:10]) == arphrdLoopback {
			p.Kind = Skip
			return
		}
		etherType = binary.BigEndian.Uint16(data[0:2])
		data = data[20:]
	case LinkNull, LinkLoop:
		if len(data) < 4 {
			p.Problem = ShortLink
			return
		}
		fam := binary.LittleEndian.Uint32(data[0:4])
		if linkType == LinkLoop || fam > 0xffff {
			fam = binary.BigEndian.Uint32(data[0:4])
		}
		data = data[4:]
		switch fam {
		case 2:
			etherType = etherTypeIP4
		case 10, 24, 28, 30: // AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, Darwin
			etherType = etherTypeIP6
		default:
			return
		}
	case LinkRaw, LinkRawOld, LinkRawOld2:
		if len(data) < 1 {
			p.Problem = ShortLink
			return
		}
		switch data[0] >> 4 {
		case 4:
			etherType = etherTypeIP4
		case 6:
			etherType = etherTypeIP6
		default:
			p.Problem = BadIP
			return
		}
	case LinkIPv4:
		etherType = etherTypeIP4
	case LinkIPv6:
		etherType = etherTypeIP6
	default:
		p.Problem = UnknownLink
		return
	}
	// 802.1Q, 802.1ad (QinQ) and the older 0x9100 tags, possibly stacked.
	for i := 0; etherType == 0x8100 || etherType == 0x88a8 || etherType == 0x9100; i++ {
		if i == maxVLANTags {
			p.Problem = TooManyHeaders
			return
		}
		if len(data) < 4 {
			p.Problem = ShortLink
			return
		}
		etherType = binary.BigEndian.Uint16(data[2:4])
		data = data[4:]
	}
	switch etherType {
	case etherTypeIP4:
		decodeIPv4(data, p)
	case etherTypeIP6:
		decodeIPv6(data, p)
	}
}

func decodeIPv4(data []byte, p *Packet) {
	if len(data) < 20 {
		p.Problem = ShortIP
		return
	}
	ihl := int(data[0]&0x0f) * 4
	if data[0]>>4 != 4 || ihl < 20 {
		p.Problem = BadIP
		return
	}
	if len(data) < ihl {
		p.Problem = ShortIP
		return
	}
	// The total length covers the header, or is zero (left so by TCP
	// segmentation offload; then what was captured is the packet).
	total := int(binary.BigEndian.Uint16(data[2:4]))
	if total != 0 && total < ihl {
		p.Problem = BadIP
		return
	}
	p.IPProto = data[9]
	p.Src[10], p.Src[11] = 0xff, 0xff
	p.Dst[10], p.Dst[11] = 0xff, 0xff
	copy(p.Src[12:], data[12:16])
	copy(p.Dst[12:], data[16:20])
	flagsOff := binary.BigEndian.Uint16(data[6:8])
	offset := flagsOff & 0x1fff
	more := flagsOff&0x2000 != 0
	if more || offset != 0 {
		p.Fragmented = true
		p.FragID = uint32(binary.BigEndian.Uint16(data[4:6]))
		if offset != 0 {
			p.Kind = Fragment
			return
		}
		p.FirstFragment = true
	}
	// Transport starts after the options; the IP total length may say the
	// payload is shorter than what was captured (Ethernet padding).
	payload := data[ihl:]
	if total != 0 && total-ihl < len(payload) {
		payload = payload[:total-ihl]
	}
	decodeTransport(payload, p)
}

func decodeIPv6(data []byte, p *Packet) {
	if len(data) < 40 {
		p.Problem = ShortIP
		return
	}
	if data[0]>>4 != 6 {
		p.Problem = BadIP
		return
	}
	copy(p.Src[:], data[8:24])
	copy(p.Dst[:], data[24:40])
	p.IPv6 = true
	next := data[6]
	payload := data[40:]
	if plen := int(binary.BigEndian.Uint16(data[4:6])); plen != 0 && plen < len(payload) {
		payload = payload[:plen]
	}
	seenFrag := false
	for i := 0; ; i++ {
		if i == maxIPv6Hdrs {
			p.Problem = TooManyHeaders
			return
		}
		switch next {
		case 0, 43, 60, 135, 139, 140, 51:
			// Hop-by-hop, routing, destination options, mobility, HIP,
			// shim6: length in 8-byte units, minus 1; AH: in 4-byte
			// units, minus 2.
			n := -1
			if len(payload) >= 8 {
				n = (int(payload[1]) + 1) * 8
				if next == 51 {
					n = (int(payload[1]) + 2) * 4
				}
			}
			if n < 0 || len(payload) < n {
				p.IPProto = next
				p.Problem = ShortIP
				return
			}
			next = payload[0]
			payload = payload[n:]
		case 44: // fragment
			if len(payload) < 8 {
				p.IPProto = next
				p.Problem = ShortIP
				return
			}
			if seenFrag {
				// A packet is fragmented once: a second fragment header
				// (after a first fragment's) is malformed, not a fragment.
				p.IPProto = next
				p.Problem = BadIP
				p.Fragmented, p.FirstFragment, p.FragID = false, false, 0
				return
			}
			seenFrag = true
			offMore := binary.BigEndian.Uint16(payload[2:4])
			p.Fragmented = true
			p.FragID = binary.BigEndian.Uint32(payload[4:8])
			next = payload[0]
			payload = payload[8:]
			if offMore>>3 != 0 {
				p.IPProto = next
				p.Kind = Fragment
				return
			}
			if offMore&1 == 0 {
				// An atomic fragment (offset 0, no more): a whole packet.
				p.Fragmented = false
				p.FragID = 0
			} else {
				p.FirstFragment = true
			}
		default:
			p.IPProto = next
			decodeTransport(payload, p)
			return
		}
	}
}

func decodeTransport(data []byte, p *Packet) {
	var min int
	switch p.IPProto {
	case 6:
		min = 20
	case 17:
		min = 8
	default:
		return
	}
	if len(data) < 4 {
		p.Problem = ShortTransport
		return
	}
	p.Kind = Transport
	p.SrcPort = binary.BigEndian.Uint16(data[0:2])
	p.DstPort = binary.BigEndian.Uint16(data[2:4])
	if p.IPProto == 6 && len(data) >= 14 {
		p.TCPFlags = data[13]
	}
	if len(data) < min && !p.FirstFragment {
		p.Truncated = true
	}
}
