// Package classify applies porttop's service-port rule: it decides, for each
// decoded TCP/UDP packet, which of its two ports is the service port, whether
// that port belongs to this host (side local) or to a peer (side remote), and
// whether the packet travels toward this host (rx) or away from it (tx).
//
// The rule, in order (see DESIGN.md):
//  1. the port of a listening socket on this host, when exactly one end is;
//  2. TCP: a SYN without ACK makes its destination the service end of the
//     4-tuple from then on; a SYN-ACK seen first makes its source the
//     service end (remembered in a capped, expiring SynTable);
//  3. otherwise: the one port below 1024; else the one port named in the
//     services table; else the lower port (equal: the destination).
//
// A Classifier is owned by one capture goroutine. Its local-address set and
// listening-port set are replaced atomically by other goroutines (SetLocal,
// SetListening) and read without locks.
package classify

import (
	"sync/atomic"

	"github.com/porttop/porttop/internal/decode"
	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/services"
)

// Result is the classification of one packet.
type Result struct {
	Key key.Key
	Dir key.Dir
	// Tuple is the packet's direction-free 4-tuple and Hash its hash; they
	// identify the flow (connection) the packet belongs to.
	Tuple Tuple
	Hash  uint64
	// ServiceIsA is true when endpoint A of Tuple is the service end.
	ServiceIsA bool
}

// Rule says which step of the service-port rule decided (for tests and
// statistics).
type Rule uint8

// The steps of the service-port rule.
const (
	RuleListening Rule = 1 // a listening socket on this host
	RuleSYN       Rule = 2 // a SYN or SYN-ACK seen for the 4-tuple
	RuleLowPort   Rule = 3 // exactly one port below 1024
	RuleNamed     Rule = 4 // exactly one port in the services table
	RuleLower     Rule = 5 // the lower port (equal: destination)
	RuleFragment  Rule = 6 // a later fragment, classified as its first one
)

// Options configure a Classifier.
type Options struct {
	// Services is the services table for rule 3 (nil: the built-in one).
	Services *services.Table
	// SynCapacity and SynTTLSeconds size the rule-2 table (defaults
	// 65536 entries, 600 s).
	SynCapacity   int
	SynTTLSeconds uint32
	// FragCapacity sizes the fragment table (default 4096).
	FragCapacity int
}

// Classifier applies the service-port rule. See the package comment.
type Classifier struct {
	local     atomic.Pointer[LocalSet]
	listening atomic.Pointer[Listening]
	services  *services.Table
	syn       *SynTable
	frags     *fragTable
}

// New returns a Classifier with no local addresses (so the service end is
// taken as this host) and no listening ports.
func New(o Options) *Classifier {
	if o.Services == nil {
		o.Services = services.Builtin()
	}
	if o.SynCapacity <= 0 {
		o.SynCapacity = 1 << 16
	}
	if o.SynTTLSeconds == 0 {
		o.SynTTLSeconds = 600
	}
	if o.FragCapacity <= 0 {
		o.FragCapacity = 4096
	}
	return &Classifier{
		services: o.Services,
		syn:      NewSynTable(o.SynCapacity, o.SynTTLSeconds),
		frags:    newFragTable(o.FragCapacity),
	}
}

// SetLocal replaces the set of this host's addresses. nil means unknown:
// the service end of every packet is then taken as this host.
func (c *Classifier) SetLocal(l *LocalSet) { c.local.Store(l) }

// SetListening replaces the set of ports with a listening socket (rule 1).
func (c *Classifier) SetListening(l *Listening) { c.listening.Store(l) }

// SynTable returns the classifier's rule-2 table (for statistics).
func (c *Classifier) SynTable() *SynTable { return c.syn }

// Classify classifies p, a decoded packet seen at packet time now (seconds),
// into r. It returns 0 when the packet is not counted per port (not
// TCP/UDP, or a later fragment whose first fragment was not seen), else the
// rule that decided. It does not allocate.
func (c *Classifier) Classify(p *decode.Packet, now uint32, r *Result) Rule {
	switch p.Kind {
	case decode.Transport:
	case decode.Fragment:
		if c.frags.get(&p.Src, &p.Dst, p.FragID, fragProto(p), now, r) {
			return RuleFragment
		}
		return 0
	default:
		return 0
	}
	proto := key.TCP
	if p.IPProto == 17 {
		proto = key.UDP
	}
	t := &r.Tuple
	srcIsA := t.set(p.IPProto, &p.Src, &p.Dst, p.SrcPort, p.DstPort)
	h := t.Hash()

	local := c.local.Load()
	var rule Rule
	var serviceIsDst bool
	// Rule 1: a listening socket on this host.
	if l := c.listening.Load(); l != nil {
		dstListens := l.Has(proto, p.DstPort) && (local == nil || local.Contains(&p.Dst))
		srcListens := l.Has(proto, p.SrcPort) && (local == nil || local.Contains(&p.Src))
		if dstListens != srcListens {
			rule, serviceIsDst = RuleListening, dstListens
		}
	}
	// Rule 2: SYN / SYN-ACK. The table is updated even when rule 1
	// decided, so it stays right if the listening set changes.
	if proto == key.TCP {
		syn, ack := p.TCPFlags&decode.FlagSYN != 0, p.TCPFlags&decode.FlagACK != 0
		switch {
		case syn && !ack:
			// The destination is the service end: it is A when src is not.
			c.syn.Set(t, h, !srcIsA, now)
			if rule == 0 {
				rule, serviceIsDst = RuleSYN, true
			}
		case syn && ack:
			if svcIsA, ok := c.syn.Lookup(t, h, now); ok {
				if rule == 0 {
					rule, serviceIsDst = RuleSYN, svcIsA != srcIsA
				}
			} else {
				c.syn.Set(t, h, srcIsA, now)
				if rule == 0 {
					rule, serviceIsDst = RuleSYN, false
				}
			}
		default:
			if rule == 0 {
				if svcIsA, ok := c.syn.Lookup(t, h, now); ok {
					rule, serviceIsDst = RuleSYN, svcIsA != srcIsA
				}
			}
		}
	}
	// Rule 3.
	if rule == 0 {
		rule, serviceIsDst = c.rule3(proto, p.SrcPort, p.DstPort)
	}

	svcAddr, cliAddr := &p.Src, &p.Dst
	svcPort := p.SrcPort
	if serviceIsDst {
		svcAddr, cliAddr = &p.Dst, &p.Src
		svcPort = p.DstPort
	}
	r.Key = key.Key{Proto: proto, Port: svcPort, Side: key.Local}
	r.Hash = h
	r.ServiceIsA = serviceIsDst != srcIsA
	// Side and direction. rx = toward this host; when both ends are this
	// host (loopback), or neither is known, toward the service end.
	towardService := key.Tx
	if serviceIsDst {
		towardService = key.Rx
	}
	r.Dir = towardService
	if local != nil && !local.Contains(svcAddr) && local.Contains(cliAddr) {
		r.Key.Side = key.Remote
		r.Dir = 1 - towardService
	}
	if p.FirstFragment {
		c.frags.put(&p.Src, &p.Dst, p.FragID, fragProto(p), now, r)
	}
	return rule
}

// fragProto is the protocol that identifies a fragmented packet with its
// addresses and id: IPv4's protocol field; for IPv6 none, since extension
// headers after the fragment header make a later fragment's next header
// differ from the first one's (RFC 8200), and the 32-bit id suffices.
func fragProto(p *decode.Packet) uint8 {
	if p.IPv6 {
		return 0
	}
	return p.IPProto
}

// rule3 picks the service port of a packet from sport to dport by step 3 of
// the rule and reports whether it is the destination.
func (c *Classifier) rule3(proto key.Proto, sport, dport uint16) (Rule, bool) {
	sLow, dLow := sport < 1024, dport < 1024
	if sLow != dLow {
		return RuleLowPort, dLow
	}
	sNamed, dNamed := c.services.Known(proto, sport), c.services.Known(proto, dport)
	if sNamed != dNamed {
		return RuleNamed, dNamed
	}
	return RuleLower, dport <= sport
}

// OtherDir returns the direction of a packet that is not counted per port:
// tx when it comes from this host and goes elsewhere, rx otherwise.
func (c *Classifier) OtherDir(p *decode.Packet) key.Dir {
	if p.IPProto == 0 && p.Kind == decode.Other && p.Src == ([16]byte{}) {
		return key.Rx // not IP (ARP, ...): no addresses to tell
	}
	local := c.local.Load()
	if local != nil && local.Contains(&p.Src) && !local.Contains(&p.Dst) {
		return key.Tx
	}
	return key.Rx
}
