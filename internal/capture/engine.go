package capture

import (
	"fmt"
	"strings"
)

// Engine chooses how a live interface is captured.
type Engine int

// The capture engines.
const (
	// EngineAuto picks the fastest engine that works on this platform for
	// the interface: AF_PACKET on Linux for a named Ethernet or loopback
	// interface, libpcap otherwise (including "any").
	EngineAuto Engine = iota
	// EnginePcap captures through libpcap: portable, and the only engine
	// for "any" and for link types other than Ethernet.
	EnginePcap
	// EngineAFPacket reads a Linux AF_PACKET TPACKET_V3 ring directly,
	// with no cgo call per packet.
	EngineAFPacket
)

// String returns the engine's name as ParseEngine accepts it.
func (e Engine) String() string {
	switch e {
	case EngineAuto:
		return "auto"
	case EnginePcap:
		return "pcap"
	case EngineAFPacket:
		return "afpacket"
	}
	return fmt.Sprintf("engine(%d)", int(e))
}

// ParseEngine parses an engine name: "auto" (or empty), "pcap" or
// "afpacket", in any case.
func ParseEngine(s string) (Engine, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return EngineAuto, nil
	case "pcap", "libpcap":
		return EnginePcap, nil
	case "afpacket", "af_packet":
		return EngineAFPacket, nil
	}
	return EngineAuto, fmt.Errorf("unknown capture engine %q (want auto, pcap or afpacket)", s)
}
