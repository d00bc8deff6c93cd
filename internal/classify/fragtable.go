package classify

// fragTable remembers how the first fragment of a fragmented IP packet was
// classified, so later fragments (which carry no ports) count under the
// same row and direction. It is direct-mapped and fixed-size; entries
// expire after fragTTL seconds (the usual reassembly timeout).
type fragTable struct {
	entries []fragEntry
	mask    uint64
}

const fragTTL = 30

type fragEntry struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
	seen     uint32 // packet time, seconds; 0 = empty
	result   Result
}

func newFragTable(size int) *fragTable {
	n := 1
	for n < size {
		n <<= 1
	}
	return &fragTable{entries: make([]fragEntry, n), mask: uint64(n - 1)}
}

func fragHash(src, dst *[16]byte, id uint32, proto uint8) uint64 {
	t := Tuple{A: *src, B: *dst, Proto: proto, APort: uint16(id >> 16), BPort: uint16(id)}
	return t.Hash()
}

func (f *fragTable) put(src, dst *[16]byte, id uint32, proto uint8, now uint32, r *Result) {
	e := &f.entries[fragHash(src, dst, id, proto)&f.mask]
	*e = fragEntry{src: *src, dst: *dst, id: id, proto: proto, seen: stamp(now), result: *r}
}

func (f *fragTable) get(src, dst *[16]byte, id uint32, proto uint8, now uint32, r *Result) bool {
	e := &f.entries[fragHash(src, dst, id, proto)&f.mask]
	if e.seen == 0 || e.id != id || e.proto != proto || e.src != *src || e.dst != *dst {
		return false
	}
	if now > e.seen && now-e.seen > fragTTL {
		e.seen = 0
		return false
	}
	*r = e.result
	return true
}
