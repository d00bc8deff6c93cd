package capture

import (
	"fmt"
	"os"
)

// defaultRouteInterface returns the interface of the IPv4 default route.
func defaultRouteInterface() (string, error) {
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return "", err
	}
	defer f.Close()
	name, err := parseDefaultRoute(f)
	if err != nil {
		return "", fmt.Errorf("/proc/net/route: %w", err)
	}
	return name, nil
}
