package capture

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseDefaultRoute(t *testing.T) {
	for file, want := range map[string]string{
		"simple":       "eth0",
		"two-defaults": "enp3s0", // lowest metric among up default routes; down0 is not up
		"no-default":   "",
	} {
		f, err := os.Open(filepath.Join("testdata", "route", file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseDefaultRoute(f)
		f.Close()
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", file, got, err, want)
		}
	}
	for name, in := range map[string]string{
		"no header columns": "foo bar\neth0 00000000\n",
		"bad flags":         "Iface Destination Gateway Flags RefCnt Use Metric Mask\neth0 00000000 0 zz 0 0 0 00000000\n",
		"bad metric":        "Iface Destination Gateway Flags RefCnt Use Metric Mask\neth0 00000000 0 0003 0 0 -1 00000000\n",
	} {
		if got, err := parseDefaultRoute(strings.NewReader(in)); err == nil {
			t.Errorf("%s: %q and no error", name, got)
		}
	}
	if got, err := parseDefaultRoute(strings.NewReader("")); err != nil || got != "" {
		t.Errorf("empty: %q, %v", got, err)
	}
}

func TestInterfaces(t *testing.T) {
	names, err := Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	lo := loopback(t)
	if !slices.Contains(names, lo) {
		t.Fatalf("Interfaces() = %v, no %s", names, lo)
	}
	for _, n := range names {
		if _, err := net.InterfaceByName(n); err != nil && n != "any" {
			t.Errorf("Interfaces() lists %q, which is not an interface", n)
		}
	}
}

func TestDefaultInterface(t *testing.T) {
	name, err := DefaultInterface()
	if err != nil {
		t.Skipf("this machine has no default route nor up interface: %v", err)
	}
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		t.Fatalf("DefaultInterface() = %q: %v", name, err)
	}
	if ifc.Flags&net.FlagLoopback != 0 {
		t.Fatalf("DefaultInterface() = loopback %q", name)
	}
}
