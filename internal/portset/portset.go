// Package portset parses and queries port lists such as "22,80,8000-8100",
// the argument of porttop's -p flag.
package portset

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Range is an inclusive range of ports, Lo <= Hi.
type Range struct {
	Lo, Hi uint16
}

// Set is a set of ports. The zero value is the empty set, which callers
// such as render treat as "no filter". A Set is immutable once built and safe
// for concurrent use.
type Set struct {
	// ranges are sorted by Lo, non-overlapping and non-adjacent.
	ranges []Range
}

// Parse parses a comma-separated list of ports and inclusive ranges, for
// example "22,80,8000-8100". Ports are 0..65535; a range needs low <= high;
// spaces around items are ignored; empty items and an empty list are errors.
// Overlapping and repeated items are merged.
func Parse(s string) (Set, error) {
	if strings.TrimSpace(s) == "" {
		return Set{}, fmt.Errorf("bad port list %q: empty list (want ports and ranges like 22,80,8000-8100)", s)
	}
	var rs []Range
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return Set{}, fmt.Errorf("bad port list %q: empty item (want ports and ranges like 22,80,8000-8100)", s)
		}
		r, err := parseItem(item)
		if err != nil {
			return Set{}, fmt.Errorf("bad port list %q: %w", s, err)
		}
		rs = append(rs, r)
	}
	return FromRanges(rs...), nil
}

func parseItem(item string) (Range, error) {
	lo, hi, isRange := strings.Cut(item, "-")
	if !isRange {
		p, err := parsePort(item)
		if err != nil {
			return Range{}, err
		}
		return Range{Lo: p, Hi: p}, nil
	}
	lo, hi = strings.TrimSpace(lo), strings.TrimSpace(hi)
	if lo == "" {
		return Range{}, fmt.Errorf("range %q has no low end", item)
	}
	if hi == "" {
		return Range{}, fmt.Errorf("range %q has no high end", item)
	}
	l, err := parsePort(lo)
	if err != nil {
		return Range{}, err
	}
	h, err := parsePort(hi)
	if err != nil {
		return Range{}, err
	}
	if l > h {
		return Range{}, fmt.Errorf("range %q is backwards (low %d > high %d)", item, l, h)
	}
	return Range{Lo: l, Hi: h}, nil
}

func parsePort(s string) (uint16, error) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%q is not a port number", s)
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > 65535 {
		return 0, fmt.Errorf("port %s out of range 0-65535", s)
	}
	return uint16(n), nil
}

// FromRanges builds a Set from ranges in any order; a range with Lo > Hi is
// taken as Hi..Lo.
func FromRanges(rs ...Range) Set {
	if len(rs) == 0 {
		return Set{}
	}
	norm := make([]Range, len(rs))
	for i, r := range rs {
		if r.Lo > r.Hi {
			r.Lo, r.Hi = r.Hi, r.Lo
		}
		norm[i] = r
	}
	slices.SortFunc(norm, func(a, b Range) int { return int(a.Lo) - int(b.Lo) })
	out := norm[:1]
	for _, r := range norm[1:] {
		last := &out[len(out)-1]
		if uint32(r.Lo) <= uint32(last.Hi)+1 {
			last.Hi = max(last.Hi, r.Hi)
			continue
		}
		out = append(out, r)
	}
	return Set{ranges: slices.Clip(out)}
}

// Contains reports whether port is in the set. It does not allocate.
func (s Set) Contains(port uint16) bool {
	lo, hi := 0, len(s.ranges)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		r := s.ranges[m]
		switch {
		case port < r.Lo:
			hi = m
		case port > r.Hi:
			lo = m + 1
		default:
			return true
		}
	}
	return false
}

// Empty reports whether the set holds no ports (the zero Set).
func (s Set) Empty() bool { return len(s.ranges) == 0 }

// Ranges returns the set as sorted, merged ranges (a copy).
func (s Set) Ranges() []Range { return slices.Clone(s.ranges) }

// String formats the set in canonical form: sorted, merged, "22,80,8000-8100";
// "" for the empty set. Parse(s.String()) gives back an equal set.
func (s Set) String() string {
	var b []byte
	for i, r := range s.ranges {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(r.Lo), 10)
		if r.Hi != r.Lo {
			b = append(b, '-')
			b = strconv.AppendUint(b, uint64(r.Hi), 10)
		}
	}
	return string(b)
}
