package classify

// SynTable remembers, per TCP 4-tuple, which end is the service: rule 2 of
// the service-port rule. It is a fixed-size set-associative cache, so a SYN
// flood cannot grow memory: when a bucket is full the least recently seen
// entry is replaced, and entries idle longer than the TTL count as absent.
//
// Entries are keyed by the tuple's 64-bit hash, not the tuple itself, so an
// entry is 16 bytes and a bucket of four fits a cache line; two live
// 4-tuples would have to share all 64 bits to be confused.
//
// Memory: Buckets × Ways × sizeof(synEntry) (16 bytes) — 1 MiB by default.
// A SynTable is owned by one capture goroutine; it is not safe for
// concurrent use.
type SynTable struct {
	entries []synEntry
	mask    uint64 // bucket count - 1
	ttl     uint32 // seconds
	// Evictions counts live entries replaced because their bucket was full.
	Evictions uint64
}

const synWays = 4

type synEntry struct {
	hash     uint64
	lastSeen uint32 // packet time, seconds; 0 = empty
	// serviceIsA is true when endpoint A of the tuple is the service end.
	serviceIsA bool
}

// NewSynTable returns a table of about capacity entries (rounded up to a
// power of two) whose entries expire after ttlSeconds without a packet.
func NewSynTable(capacity int, ttlSeconds uint32) *SynTable {
	buckets := 1
	for buckets*synWays < capacity {
		buckets <<= 1
	}
	return &SynTable{
		entries: make([]synEntry, buckets*synWays),
		mask:    uint64(buckets - 1),
		ttl:     ttlSeconds,
	}
}

// now must never be 0 in the table: 0 marks an empty slot.
func stamp(now uint32) uint32 {
	if now == 0 {
		return 1
	}
	return now
}

// Lookup returns whether the tuple is known and, if so, whether endpoint A
// is the service end. A hit refreshes the entry's idle timer.
func (s *SynTable) Lookup(t *Tuple, h uint64, now uint32) (serviceIsA, ok bool) {
	b := s.bucket(h)
	for i := range b {
		e := &b[i]
		if e.lastSeen != 0 && e.hash == h {
			if s.expired(e.lastSeen, now) {
				e.lastSeen = 0
				return false, false
			}
			e.lastSeen = stamp(now)
			return e.serviceIsA, true
		}
	}
	return false, false
}

// Set records that endpoint A (serviceIsA) or B is the service end.
func (s *SynTable) Set(t *Tuple, h uint64, serviceIsA bool, now uint32) {
	b := s.bucket(h)
	victim := -1
	for i := range b {
		e := &b[i]
		if e.lastSeen != 0 && e.hash == h {
			e.serviceIsA = serviceIsA
			e.lastSeen = stamp(now)
			return
		}
		if e.lastSeen == 0 || s.expired(e.lastSeen, now) {
			if victim < 0 || b[victim].lastSeen != 0 {
				victim = i
			}
			continue
		}
		if victim < 0 || (b[victim].lastSeen != 0 && e.lastSeen < b[victim].lastSeen) {
			victim = i
		}
	}
	if b[victim].lastSeen != 0 && !s.expired(b[victim].lastSeen, now) {
		s.Evictions++
	}
	b[victim] = synEntry{hash: h, lastSeen: stamp(now), serviceIsA: serviceIsA}
}

// Len returns the number of live (unexpired) entries at time now.
func (s *SynTable) Len(now uint32) int {
	n := 0
	for i := range s.entries {
		if e := &s.entries[i]; e.lastSeen != 0 && !s.expired(e.lastSeen, now) {
			n++
		}
	}
	return n
}

// Cap returns the table's capacity in entries.
func (s *SynTable) Cap() int { return len(s.entries) }

func (s *SynTable) bucket(h uint64) []synEntry {
	i := int((h>>32)&s.mask) * synWays
	return s.entries[i : i+synWays : i+synWays]
}

func (s *SynTable) expired(lastSeen, now uint32) bool {
	return now > lastSeen && now-lastSeen > s.ttl
}
