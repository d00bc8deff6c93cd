//go:build !linux

package capture

import (
	"errors"
	"net"
)

// defaultRouteInterface asks the kernel's routing table which interface
// reaches the outside: "connecting" a UDP socket to a documentation address
// (TEST-NET-1) picks a route and a source address without sending anything,
// and the interface holding that address is the default route's.
func defaultRouteInterface() (string, error) {
	c, err := net.Dial("udp4", "192.0.2.1:9")
	if err != nil {
		return "", err
	}
	defer c.Close()
	local := c.LocalAddr().(*net.UDPAddr).IP
	ifs, err := net.Interfaces()
	if err != nil {
		return "", err
	}
	for _, ifc := range ifs {
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(local) {
				return ifc.Name, nil
			}
		}
	}
	return "", errors.New("no interface holds the default route's source address " + local.String())
}
