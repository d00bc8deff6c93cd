// Package pcapgen writes synthetic captures whose per-port totals are known
// exactly, for porttop's offline tests, golden files and benchmarks.
//
// Every packet is built with gopacket's layers and labelled, as it is
// written, with the row and direction the service-port rule must give it;
// the labels add up to Expect. Reading the capture back through porttop
// must reproduce Expect exactly.
package pcapgen

import (
	"fmt"
	"net"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/snapshot"
)

// PacketWriter takes packets: pcapgo.Writer and pcapgo.NgWriter are both
// PacketWriters.
type PacketWriter interface {
	WritePacket(ci gopacket.CaptureInfo, data []byte) error
}

// Expect is what porttop must report for a generated capture (offline,
// without --local: the service side is this host, rx = toward the
// service port).
type Expect struct {
	Rows    map[key.Key]snapshot.Counters
	Conns   map[key.Key]int // distinct 4-tuples per row
	Other   snapshot.Counters
	Packets uint64 // frames written
	Bytes   uint64 // wire bytes written
}

// Generator writes labelled packets. Snaplen (0 = unlimited) cuts the
// captured bytes as a capture with that snaplen would; wire lengths are
// always the full frame.
type Generator struct {
	W       PacketWriter
	Snaplen int
	// Time is the timestamp of the next packet; Step is added after each.
	Time time.Time
	Step time.Duration

	Expect Expect
	flows  map[key.Key]map[string]bool
	buf    gopacket.SerializeBuffer
	err    error
}

// New returns a generator writing to w, starting at start.
func New(w PacketWriter, start time.Time, step time.Duration, snaplen int) *Generator {
	return &Generator{
		W: w, Snaplen: snaplen, Time: start, Step: step,
		Expect: Expect{Rows: make(map[key.Key]snapshot.Counters), Conns: make(map[key.Key]int)},
		flows:  make(map[key.Key]map[string]bool),
		buf:    gopacket.NewSerializeBuffer(),
	}
}

// Err returns the first write or serialisation error.
func (g *Generator) Err() error { return g.err }

// Label says how porttop must count a packet.
type Label struct {
	Other bool    // counted under "other"
	Key   key.Key // the row (when !Other)
	Dir   key.Dir
	Flow  string // a 4-tuple name; distinct names are distinct connections
}

// Write serialises ls and writes the frame, counted as lab. It returns the
// frame's wire length.
func (g *Generator) Write(lab Label, ls ...gopacket.SerializableLayer) int {
	if g.err != nil {
		return 0
	}
	if err := gopacket.SerializeLayers(g.buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		g.err = fmt.Errorf("serialise: %w", err)
		return 0
	}
	return g.WriteRaw(lab, g.buf.Bytes())
}

// WriteRaw writes a frame given as bytes, counted as lab.
func (g *Generator) WriteRaw(lab Label, frame []byte) int {
	if g.err != nil {
		return 0
	}
	data := frame
	if g.Snaplen > 0 && len(data) > g.Snaplen {
		data = data[:g.Snaplen]
	}
	ci := gopacket.CaptureInfo{Timestamp: g.Time, CaptureLength: len(data), Length: len(frame)}
	if err := g.W.WritePacket(ci, data); err != nil {
		g.err = err
		return 0
	}
	g.Time = g.Time.Add(g.Step)
	n := uint64(len(frame))
	g.Expect.Packets++
	g.Expect.Bytes += n
	c := &g.Expect.Other
	var row snapshot.Counters
	if !lab.Other {
		row = g.Expect.Rows[lab.Key]
		c = &row
		if lab.Flow != "" {
			if g.flows[lab.Key] == nil {
				g.flows[lab.Key] = make(map[string]bool)
			}
			if !g.flows[lab.Key][lab.Flow] {
				g.flows[lab.Key][lab.Flow] = true
				g.Expect.Conns[lab.Key]++
			}
		}
	}
	if lab.Dir == key.Rx {
		c.RxBytes += n
		c.RxPackets++
	} else {
		c.TxBytes += n
		c.TxPackets++
	}
	if !lab.Other {
		g.Expect.Rows[lab.Key] = row
	}
	return len(frame)
}

// Addresses and MACs used by the scenarios (documentation ranges).
var (
	MACA = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	MACB = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
	IP4A = net.IP{192, 0, 2, 10}
	IP4B = net.IP{198, 51, 100, 20}
	IP6A = net.ParseIP("2001:db8::a")
	IP6B = net.ParseIP("2001:db8::b")
)

// Eth returns an Ethernet header from a to b carrying t.
func Eth(t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: MACA, DstMAC: MACB, EthernetType: t}
}

// IPv4 returns an IPv4 header.
func IPv4(src, dst net.IP, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: src, DstIP: dst}
}

// IPv6 returns an IPv6 header.
func IPv6(src, dst net.IP, next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next, SrcIP: src, DstIP: dst}
}

// TCP flag sets.
const (
	SYN    = 1
	SYNACK = 2
	ACK    = 3
	PSHACK = 4
	FINACK = 5
)

// TCP returns a TCP header with the given flag set.
func TCP(sport, dport uint16, flags int) *layers.TCP {
	t := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Window: 65535, DataOffset: 5}
	switch flags {
	case SYN:
		t.SYN = true
	case SYNACK:
		t.SYN, t.ACK = true, true
	case ACK:
		t.ACK = true
	case PSHACK:
		t.PSH, t.ACK = true, true
	case FINACK:
		t.FIN, t.ACK = true, true
	}
	return t
}

// UDP returns a UDP header.
func UDP(sport, dport uint16) *layers.UDP {
	return &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
}

// Payload returns n bytes of payload.
func Payload(n int) gopacket.Payload {
	p := make(gopacket.Payload, n)
	for i := range p {
		p[i] = byte('a' + i%26)
	}
	return p
}
