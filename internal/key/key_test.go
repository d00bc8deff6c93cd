package key

import "testing"

func TestIndexRoundTrip(t *testing.T) {
	seen := make(map[uint32]bool)
	for _, p := range []Proto{TCP, UDP} {
		for _, s := range []Side{Local, Remote} {
			for _, port := range []uint16{0, 1, 22, 443, 65535} {
				k := Key{Proto: p, Side: s, Port: port}
				i := k.Index()
				if i >= NumIndex {
					t.Fatalf("%v: index %d out of range", k, i)
				}
				if seen[i] {
					t.Fatalf("%v: index %d reused", k, i)
				}
				seen[i] = true
				if got := FromIndex(i); got != k {
					t.Fatalf("FromIndex(%d) = %v, want %v", i, got, k)
				}
			}
		}
	}
}

func TestStringAndLess(t *testing.T) {
	k := Key{Proto: TCP, Side: Remote, Port: 443}
	if got := k.String(); got != "443/tcp remote" {
		t.Fatalf("String = %q", got)
	}
	a := Key{Proto: UDP, Side: Local, Port: 53}
	b := Key{Proto: TCP, Side: Local, Port: 80}
	c := Key{Proto: UDP, Side: Local, Port: 80}
	d := Key{Proto: UDP, Side: Remote, Port: 80}
	if !Less(a, b) || !Less(b, c) || !Less(c, d) || Less(d, a) {
		t.Fatal("Less does not order port, proto, side")
	}
	if _, err := ParseProto("SCTP"); err == nil {
		t.Fatal("ParseProto accepted sctp")
	}
	if p, err := ParseProto("UDP"); err != nil || p != UDP {
		t.Fatalf("ParseProto(UDP) = %v, %v", p, err)
	}
}

// TestOrder checks that Order and Compare order keys as Less does and that
// FromOrder undoes Order.
func TestOrder(t *testing.T) {
	var keys []Key
	for _, port := range []uint16{0, 1, 22, 80, 255, 256, 443, 8080, 65535} {
		for _, p := range []Proto{TCP, UDP} {
			for _, s := range []Side{Local, Remote} {
				keys = append(keys, Key{Proto: p, Side: s, Port: port})
			}
		}
	}
	for _, a := range keys {
		if got := FromOrder(a.Order()); got != a {
			t.Errorf("FromOrder(%v.Order()) = %v", a, got)
		}
		for _, b := range keys {
			if (a.Order() < b.Order()) != Less(a, b) || (Compare(a, b) < 0) != Less(a, b) || (Compare(a, b) == 0) != (a == b) {
				t.Errorf("%v, %v: Order/Compare disagree with Less (%v)", a, b, Less(a, b))
			}
		}
	}
}
