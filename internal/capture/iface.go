package capture

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/google/gopacket/pcap"
)

// Interfaces lists the names of the interfaces that can be captured on, in
// libpcap's order (up and running first), "any" included where libpcap
// offers it. Pseudo-devices that are not network interfaces (nflog,
// dbus, usbmon, ...) are left out. Without libpcap's list it falls back to
// the system's interfaces.
func Interfaces() ([]string, error) {
	devs, err := pcap.FindAllDevs()
	if err != nil || len(devs) == 0 {
		ifs, nerr := net.Interfaces()
		if nerr != nil {
			return nil, fmt.Errorf("list interfaces: %w", nerr)
		}
		names := make([]string, 0, len(ifs))
		for _, ifc := range ifs {
			names = append(names, ifc.Name)
		}
		return names, nil
	}
	names := make([]string, 0, len(devs))
	for _, d := range devs {
		if d.Name == anyInterface {
			names = append(names, d.Name)
			continue
		}
		if _, err := net.InterfaceByName(d.Name); err == nil {
			names = append(names, d.Name)
		}
	}
	return names, nil
}

// DefaultInterface returns the interface of the default route, or, when
// there is none, the first interface that is up and not loopback.
func DefaultInterface() (string, error) {
	if name, err := defaultRouteInterface(); err == nil && name != "" {
		return name, nil
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return "", fmt.Errorf("list interfaces: %w", err)
	}
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp != 0 && ifc.Flags&net.FlagLoopback == 0 {
			return ifc.Name, nil
		}
	}
	return "", errors.New("no default route and no interface up besides loopback")
}

// rtfUp is the kernel's RTF_UP route flag.
const rtfUp = 0x1

// parseDefaultRoute reads a Linux /proc/net/route table and returns the
// interface of the up IPv4 default route (destination and mask 0) with
// the lowest metric; "" when there is none.
func parseDefaultRoute(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	best, bestMetric := "", uint64(0)
	col := map[string]int{}
	for line := 0; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if line == 0 {
			for i, name := range f {
				col[name] = i
			}
			for _, name := range []string{"Iface", "Destination", "Flags", "Metric", "Mask"} {
				if _, ok := col[name]; !ok {
					return "", fmt.Errorf("route table: header has no %s column", name)
				}
			}
			continue
		}
		if len(f) < len(col) {
			continue
		}
		if f[col["Destination"]] != "00000000" || f[col["Mask"]] != "00000000" {
			continue
		}
		flags, err := strconv.ParseUint(f[col["Flags"]], 16, 32)
		if err != nil {
			return "", fmt.Errorf("route table line %d: flags %q: %w", line+1, f[col["Flags"]], err)
		}
		metric, err := strconv.ParseUint(f[col["Metric"]], 10, 32)
		if err != nil {
			return "", fmt.Errorf("route table line %d: metric %q: %w", line+1, f[col["Metric"]], err)
		}
		if flags&rtfUp == 0 {
			continue
		}
		if best == "" || metric < bestMetric {
			best, bestMetric = f[col["Iface"]], metric
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("route table: %w", err)
	}
	return best, nil
}
