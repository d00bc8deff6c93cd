//go:build linux || darwin || freebsd || netbsd || openbsd

package trim

import (
	"os"
	"unsafe"

	"github.com/google/gopacket/layers"
	"golang.org/x/sys/unix"
)

// GopacketTables clears gopacket/layers' EthernetType and PPPType decoder
// tables and returns their pages to the kernel, which then reads back as
// zeros: the cleared tables cost no resident memory until written again.
// It returns how many bytes were released. After it, gopacket can no
// longer decode packets into layers by EtherType or PPP type (DecodeWith
// is nil there); call it only in a program that does not use gopacket's
// decoding (porttop's main, not its tests or capture generator).
func GopacketTables() (released int) {
	layers.EthernetTypeMetadata = [len(layers.EthernetTypeMetadata)]layers.EnumMetadata{}
	layers.PPPTypeMetadata = [len(layers.PPPTypeMetadata)]layers.EnumMetadata{}
	released += dontNeed(unsafe.Pointer(&layers.EthernetTypeMetadata), unsafe.Sizeof(layers.EthernetTypeMetadata))
	released += dontNeed(unsafe.Pointer(&layers.PPPTypeMetadata), unsafe.Sizeof(layers.PPPTypeMetadata))
	return released
}

// dontNeed releases the whole pages inside the n bytes at p, which must
// be all zeros: in Go's zero-initialised data (private anonymous memory)
// a released page reads back as zeros, so the contents do not change.
func dontNeed(p unsafe.Pointer, n uintptr) int {
	page := uintptr(os.Getpagesize())
	addr := uintptr(p)
	first := (addr+page-1)&^(page-1) - addr // offset of the first whole page
	last := (addr+n)&^(page-1) - addr       // offset just past the last one
	if last <= first {
		return 0
	}
	mem := unsafe.Slice((*byte)(p), n)[first:last]
	if unix.Madvise(mem, unix.MADV_DONTNEED) != nil {
		return 0
	}
	return int(last - first)
}
