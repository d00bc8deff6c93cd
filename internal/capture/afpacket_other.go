//go:build !linux

package capture

import (
	"fmt"
	"runtime"
)

// afpacketUsable reports whether the AF_PACKET engine can capture iface:
// never, off Linux.
func afpacketUsable(string) bool { return false }

// openAFPacket reports that AF_PACKET is Linux only.
func openAFPacket(LiveOptions) (Source, error) {
	return nil, fmt.Errorf("%w: afpacket is Linux only (this is %s); use the pcap engine", ErrEngineUnavailable, runtime.GOOS)
}
