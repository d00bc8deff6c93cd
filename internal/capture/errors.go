package capture

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// Sentinel errors that callers can test with errors.Is. The errors returned
// by this package wrap them and add what the user should do.
var (
	// ErrNoSuchInterface: the named interface does not exist.
	ErrNoSuchInterface = errors.New("no such interface")
	// ErrPermission: the process may not capture packets.
	ErrPermission = errors.New("permission denied")
	// ErrBadFilter: the BPF filter expression does not compile.
	ErrBadFilter = errors.New("bad filter")
	// ErrEngineUnavailable: the requested capture engine does not work on
	// this platform or for this interface.
	ErrEngineUnavailable = errors.New("capture engine unavailable")
)

// permissionHint tells the user how to get the right to capture.
const permissionHint = "run as root or grant capabilities: sudo setcap cap_net_raw,cap_net_admin=eip $(command -v porttop)"

// isPermissionError reports whether err (from libpcap or a socket call)
// means the process lacks the privilege to capture.
func isPermissionError(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "permission denied") ||
		strings.Contains(msg, "operation not permitted") ||
		strings.Contains(msg, "don't have permission")
}

// isNoDeviceError reports whether err (from libpcap or a socket call) means
// the interface does not exist.
func isNoDeviceError(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENODEV) || errors.Is(err, syscall.ENXIO) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "no such device") ||
		strings.Contains(msg, "doesn't exist") ||
		strings.Contains(msg, "no such interface")
}

// openError turns an error from opening iface into one a user can act on:
// permission problems wrap ErrPermission, missing interfaces wrap
// ErrNoSuchInterface (with the list of interfaces that exist), anything else
// is prefixed with the interface name.
func openError(iface string, err error) error {
	switch {
	case errors.Is(err, ErrPermission), errors.Is(err, ErrNoSuchInterface),
		errors.Is(err, ErrBadFilter), errors.Is(err, ErrEngineUnavailable):
		return err
	case isPermissionError(err):
		return fmt.Errorf("capture on %s: %w: %s", iface, ErrPermission, permissionHint)
	case isNoDeviceError(err):
		return noSuchInterface(iface)
	}
	return fmt.Errorf("capture on %s: %s", iface, lowerFirst(err.Error()))
}

// noSuchInterface builds the ErrNoSuchInterface error for name, listing the
// interfaces that can be captured on.
func noSuchInterface(name string) error {
	names, err := Interfaces()
	if err != nil || len(names) == 0 {
		return fmt.Errorf("%w %q", ErrNoSuchInterface, name)
	}
	return fmt.Errorf("%w %q; available: %s", ErrNoSuchInterface, name, strings.Join(names, ", "))
}

// badFilter wraps a compile error of the user's expression expr.
func badFilter(expr string, err error) error {
	return fmt.Errorf("%w %q: %s", ErrBadFilter, expr, err.Error())
}

// lowerFirst lower-cases the first letter of a library's message, so that
// errors read like Go errors ("unknown magic", not "Unknown magic").
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	if c := s[0]; c >= 'A' && c <= 'Z' {
		// Keep acronyms ("BPF", "EOF") as they are.
		if len(s) > 1 && s[1] >= 'A' && s[1] <= 'Z' {
			return s
		}
		return string(c+'a'-'A') + s[1:]
	}
	return s
}
