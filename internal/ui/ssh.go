package ui

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/snapshot"
)

// sshConn is the ssh session porttop runs in, from SSH_CONNECTION
// ("client_ip client_port server_ip server_port").
type sshConn struct {
	valid bool
	peer  netip.AddrPort // the ssh client
	local netip.AddrPort // this host's sshd end
}

// parseSSHConnection parses the value of SSH_CONNECTION; a malformed or
// empty value gives an invalid sshConn.
func parseSSHConnection(v string) sshConn {
	f := strings.Fields(v)
	if len(f) != 4 {
		return sshConn{}
	}
	ca, err1 := netip.ParseAddr(f[0])
	cp, err2 := strconv.ParseUint(f[1], 10, 16)
	sa, err3 := netip.ParseAddr(f[2])
	sp, err4 := strconv.ParseUint(f[3], 10, 16)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return sshConn{}
	}
	return sshConn{
		valid: true,
		peer:  netip.AddrPortFrom(ca.Unmap(), uint16(cp)),
		local: netip.AddrPortFrom(sa.Unmap(), uint16(sp)),
	}
}

// key is the row the session is counted under: the sshd port, TCP, local.
func (c sshConn) key() key.Key {
	return key.Key{Proto: key.TCP, Side: key.Local, Port: c.local.Port()}
}

// matches reports whether flow f is this session.
func (c sshConn) matches(f *snapshot.Flow) bool {
	return c.valid && f.Key == c.key() &&
		f.Peer.Addr().Unmap() == c.peer.Addr() && f.Peer.Port() == c.peer.Port() &&
		f.Local.Port() == c.local.Port()
}
