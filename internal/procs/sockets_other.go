//go:build !linux

package procs

import (
	"context"
	"net/netip"

	gnet "github.com/shirou/gopsutil/v3/net"

	"github.com/porttop/porttop/internal/key"
)

// gopsutilSockets reads the socket table through gopsutil, which lists
// every socket with its owner on each call.
type gopsutilSockets struct{}

func newSocketReader() socketReader { return gopsutilSockets{} }

func (gopsutilSockets) recycle([]Socket) {}

// skip never keeps the last listing: there is no cheap sign of change.
func (gopsutilSockets) skip(string) bool { return false }

func (gopsutilSockets) read(ctx context.Context, _ string, full, _ bool) ([]Socket, RefreshStats, error) {
	stats := RefreshStats{FullScan: true, Connections: true}
	conns, err := gnet.ConnectionsWithContext(ctx, "inet")
	if err != nil {
		return nil, stats, err
	}
	socks := make([]Socket, 0, len(conns))
	for _, c := range conns {
		var proto key.Proto
		switch c.Type {
		case 1: // SOCK_STREAM
			proto = key.TCP
		case 2: // SOCK_DGRAM
			proto = key.UDP
		default:
			continue
		}
		local, ok := addrPort(c.Laddr)
		if !ok {
			continue
		}
		remote, _ := addrPort(c.Raddr)
		if !remote.Addr().IsValid() {
			if local.Addr().Is4() {
				remote = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
			} else {
				remote = netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
			}
		}
		s := Socket{Proto: proto, Local: local, Remote: remote, PID: c.Pid, UID: -1}
		if len(c.Uids) > 0 {
			s.UID = c.Uids[0]
		}
		if proto == key.TCP {
			s.State = c.Status
			s.Listening = c.Status == "LISTEN"
		} else {
			s.Listening = local.Port() != 0 && remote.Port() == 0
		}
		socks = append(socks, s)
	}
	return socks, stats, nil
}

func addrPort(a gnet.Addr) (netip.AddrPort, bool) {
	ip, err := netip.ParseAddr(a.IP)
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip.Unmap().WithZone(""), uint16(a.Port)), true
}
