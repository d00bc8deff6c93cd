// Package key names a row of porttop's table: a service port, its
// transport protocol and which side of the conversation owns it.
//
// A Key packs into a small dense index (see Index) so that per-packet
// counters can live in fixed arrays instead of maps.
package key

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// Proto is a transport protocol that porttop counts per port.
type Proto uint8

// The transport protocols porttop counts per port.
const (
	TCP Proto = 0
	UDP Proto = 1
)

// String returns "tcp" or "udp".
func (p Proto) String() string {
	if p == UDP {
		return "udp"
	}
	return "tcp"
}

// IPProto returns the IP protocol number (6 for TCP, 17 for UDP).
func (p Proto) IPProto() uint8 {
	if p == UDP {
		return 17
	}
	return 6
}

// ParseProto parses "tcp" or "udp" (any case).
func ParseProto(s string) (Proto, error) {
	switch strings.ToLower(s) {
	case "tcp":
		return TCP, nil
	case "udp":
		return UDP, nil
	}
	return 0, fmt.Errorf("unknown protocol %q (want tcp or udp)", s)
}

// Side says whose service port a row is.
type Side uint8

// The two sides of a service port.
const (
	// Local: the service port belongs to this host; clients come in.
	Local Side = 0
	// Remote: the service port belongs to a peer; this host is the client.
	Remote Side = 1
)

// String returns "local" or "remote".
func (s Side) String() string {
	if s == Remote {
		return "remote"
	}
	return "local"
}

// Dir is the direction of a packet relative to this host.
type Dir uint8

// Packet directions.
const (
	// Rx is toward this host (on loopback: toward the service port).
	Rx Dir = 0
	// Tx is from this host (on loopback: from the service port).
	Tx Dir = 1
)

// Key identifies one row: (proto, port, side).
type Key struct {
	Proto Proto
	Side  Side
	Port  uint16
}

// NumIndex is the number of distinct Key indexes: 2 protos × 2 sides × 65536 ports.
const NumIndex = 2 * 2 * 65536

// Index packs k into [0, NumIndex).
func (k Key) Index() uint32 {
	return uint32(k.Proto&1)<<17 | uint32(k.Side&1)<<16 | uint32(k.Port)
}

// FromIndex is the inverse of Index.
func FromIndex(i uint32) Key {
	return Key{Proto: Proto(i >> 17 & 1), Side: Side(i >> 16 & 1), Port: uint16(i)}
}

// String formats k as "443/tcp remote".
func (k Key) String() string {
	return strconv.Itoa(int(k.Port)) + "/" + k.Proto.String() + " " + k.Side.String()
}

// Less orders keys by port, then proto, then side: the tie-break order of
// every sorted report.
func Less(a, b Key) bool {
	if a.Port != b.Port {
		return a.Port < b.Port
	}
	if a.Proto != b.Proto {
		return a.Proto < b.Proto
	}
	return a.Side < b.Side
}

// Order maps k to an integer that orders keys as Less does (port, then
// proto, then side), for sorting many keys as plain integers.
func (k Key) Order() uint32 {
	return uint32(k.Port)<<2 | uint32(k.Proto&1)<<1 | uint32(k.Side&1)
}

// FromOrder is the inverse of Order.
func FromOrder(o uint32) Key {
	return Key{Port: uint16(o >> 2), Proto: Proto(o >> 1 & 1), Side: Side(o & 1)}
}

// Compare orders a and b as Less does, for slices.SortFunc: -1, 0 or +1.
func Compare(a, b Key) int { return cmp.Compare(a.Order(), b.Order()) }
