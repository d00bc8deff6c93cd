//go:build !linux

package capture

import "errors"

// defaultRouteInterface is not implemented off Linux; DefaultInterface
// falls back to the first up non-loopback interface.
func defaultRouteInterface() (string, error) {
	return "", errors.New("default route lookup is Linux only")
}
