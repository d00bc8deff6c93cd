package capture

import (
	"strings"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcap"
)

// FilterExpression expands a user's BPF expression E so that it also
// matches 802.1Q and QinQ (double-tagged) frames, which libpcap's plain
// "port 80" does not look into:
//
//	(E) or (vlan and ((E) or (vlan and (E))))
//
// The nesting matters: each "vlan" moves the offsets of everything after
// it in the expression, across "or" too, so the flat form
// "(E) or (vlan and E) or (vlan and vlan and E)" would look for the
// double tag 4 bytes too far. An empty (or blank) expression stays empty.
func FilterExpression(user string) string {
	expr := strings.TrimSpace(user)
	if expr == "" {
		return ""
	}
	return "(" + expr + ") or (vlan and ((" + expr + ") or (vlan and (" + expr + "))))"
}

// filterFor returns the expression to compile for the user's filter on a
// link type: the VLAN expansion where the link type has VLAN tags, the plain
// expression where libpcap knows no "vlan" for it (Linux cooked, raw IP,
// BSD loopback). A user expression that does not compile gives an error
// wrapping ErrBadFilter, with libpcap's message.
func filterFor(linkType layers.LinkType, snaplen int, user string) (string, error) {
	expr := strings.TrimSpace(user)
	if expr == "" {
		return "", nil
	}
	if _, err := pcap.CompileBPFFilter(linkType, snaplen, expr); err != nil {
		return "", badFilter(user, err)
	}
	expanded := FilterExpression(expr)
	if _, err := pcap.CompileBPFFilter(linkType, snaplen, expanded); err != nil {
		return expr, nil
	}
	return expanded, nil
}

// compileFilter compiles the user's filter (see filterFor) for a link type,
// with accepting instructions returning snaplen, so that the kernel copies
// at most snaplen bytes of each packet. An empty expression gives a program
// that accepts every packet, truncated to snaplen.
func compileFilter(linkType layers.LinkType, snaplen int, user string) ([]pcap.BPFInstruction, error) {
	expr, err := filterFor(linkType, snaplen, user)
	if err != nil {
		return nil, err
	}
	prog, err := pcap.CompileBPFFilter(linkType, snaplen, expr)
	if err != nil {
		return nil, badFilter(user, err)
	}
	return prog, nil
}

// newMatcher returns a per-packet matcher for a capture file's packets, or
// nil when user is empty (every packet matches).
func newMatcher(linkType layers.LinkType, user string) (*pcap.BPF, error) {
	expr, err := filterFor(linkType, maxSnaplen, user)
	if err != nil || expr == "" {
		return nil, err
	}
	m, err := pcap.NewBPF(linkType, maxSnaplen, expr)
	if err != nil {
		return nil, badFilter(user, err)
	}
	return m, nil
}
