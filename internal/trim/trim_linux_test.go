package trim

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/gopacket/layers"
)

// rssKiB reads this process's resident set size.
func rssKiB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// TestGopacketTables checks that the tables gopacket filled at init are
// cleared and that their memory leaves the resident set.
func TestGopacketTables(t *testing.T) {
	if layers.EthernetTypeMetadata[layers.EthernetTypeIPv4].Name == "" || layers.PPPTypeMetadata[layers.PPPTypeIPv4].Name == "" {
		t.Fatal("gopacket's tables are empty before GopacketTables: nothing to test")
	}
	before := rssKiB(t)
	released := GopacketTables()
	after := rssKiB(t)
	tables := int(unsafe.Sizeof(layers.EthernetTypeMetadata) + unsafe.Sizeof(layers.PPPTypeMetadata))
	if released < tables-2*os.Getpagesize() || released > tables {
		t.Errorf("released %d bytes, want the whole pages of %d", released, tables)
	}
	if before-after < released/1024*9/10 {
		t.Errorf("VmRSS %d kB -> %d kB: fell by less than the %d kB released", before, after, released/1024)
	}
	for _, m := range []*[65536]layers.EnumMetadata{&layers.EthernetTypeMetadata, &layers.PPPTypeMetadata} {
		for i := range m {
			if m[i].DecodeWith != nil || m[i].Name != "" || m[i].LayerType != 0 {
				t.Fatalf("entry %d not cleared: %+v", i, m[i])
			}
		}
	}
	t.Logf("released %d KiB; VmRSS %d -> %d kB", released/1024, before, after)
}
