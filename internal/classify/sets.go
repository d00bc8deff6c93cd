package classify

import (
	"encoding/binary"
	"net/netip"

	"github.com/porttop/porttop/internal/key"
)

// LocalSet is an immutable set of this host's addresses and prefixes.
type LocalSet struct {
	exact    [][16]byte
	prefixes []maskedPrefix
}

type maskedPrefix struct {
	addr, mask [2]uint64
}

// NewLocalSet builds a set from prefixes: a full-length prefix (/32, /128)
// is one address, a shorter one (--local 10.0.0.0/8) a range. IPv4 prefixes
// match IPv4 packets (stored IPv4-mapped).
func NewLocalSet(prefixes []netip.Prefix) *LocalSet {
	l := &LocalSet{}
	for _, p := range prefixes {
		if !p.IsValid() {
			continue
		}
		bitsLen := p.Bits()
		addr := p.Addr()
		if addr.Is4() {
			bitsLen += 96
		}
		a16 := addr.As16()
		if bitsLen == 128 {
			l.exact = append(l.exact, a16)
			continue
		}
		var m maskedPrefix
		for i := 0; i < 2; i++ {
			n := bitsLen - 64*i
			switch {
			case n >= 64:
				m.mask[i] = ^uint64(0)
			case n > 0:
				m.mask[i] = ^uint64(0) << (64 - n)
			}
			m.addr[i] = binary.BigEndian.Uint64(a16[8*i:]) & m.mask[i]
		}
		l.prefixes = append(l.prefixes, m)
	}
	return l
}

// Contains reports whether a (16 bytes, IPv4-mapped for IPv4) is in the set.
// It does not allocate.
func (l *LocalSet) Contains(a *[16]byte) bool {
	for i := range l.exact {
		if l.exact[i] == *a {
			return true
		}
	}
	if len(l.prefixes) == 0 {
		return false
	}
	hi, lo := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])
	for _, p := range l.prefixes {
		if hi&p.mask[0] == p.addr[0] && lo&p.mask[1] == p.addr[1] {
			return true
		}
	}
	return false
}

// Listening is an immutable set of (proto, port) with a listening socket on
// this host.
type Listening struct {
	bits [2][65536 / 64]uint64
}

// NewListening builds the set from keys (their Side is ignored).
func NewListening(keys []key.Key) *Listening {
	l := &Listening{}
	for _, k := range keys {
		l.bits[k.Proto&1][k.Port/64] |= 1 << (k.Port % 64)
	}
	return l
}

// Has reports whether port/proto has a listening socket.
func (l *Listening) Has(p key.Proto, port uint16) bool {
	return l.bits[p&1][port/64]&(1<<(port%64)) != 0
}
