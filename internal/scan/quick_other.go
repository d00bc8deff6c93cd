//go:build !linux

package scan

import "net/netip"

// quickConnect is the Linux loopback fast path; elsewhere every port takes
// the ordinary dialer.
func quickConnect(netip.Addr, uint16) (State, string, bool) { return Unknown, "", false }
