package engine

import (
	"slices"
	"testing"
	"time"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/services"
)

// TestSnapshotRowsInKeyOrder checks the snapshot's rows: the traffic rows
// and the listening ports merged in key order, a listening port with
// traffic once (marked listening), the listening set taken unsorted,
// with a duplicate and a remote-side key (which counts as local), as
// ListeningKeys may give it.
func TestSnapshotRowsInKeyOrder(t *testing.T) {
	a := newAggregator(services.Builtin(), nil)
	now := time.Unix(1000, 0)
	a.start, a.last = now, now
	tcp := func(port uint16, s key.Side) key.Key { return key.Key{Proto: key.TCP, Side: s, Port: port} }
	udp := func(port uint16, s key.Side) key.Key { return key.Key{Proto: key.UDP, Side: s, Port: port} }
	for _, k := range []key.Key{tcp(443, key.Remote), tcp(22, key.Local), udp(53, key.Remote), tcp(80, key.Local), tcp(80, key.Remote)} {
		a.ports[k.Index()] = &portState{conns: 1}
	}
	a.setListening([]key.Key{tcp(8080, key.Local), tcp(22, key.Local), udp(53, key.Local), tcp(22, key.Local), tcp(80, key.Remote), tcp(1, key.Local)})

	s := a.snapshot(now.Add(time.Second), time.Second, false)
	type row struct {
		k         key.Key
		listening bool
		traffic   bool
	}
	var got []row
	for _, p := range s.Ports {
		got = append(got, row{p.Key, p.Listening, p.Connections == 1})
	}
	want := []row{
		{tcp(1, key.Local), true, false},
		{tcp(22, key.Local), true, true},
		{udp(53, key.Local), true, false},
		{udp(53, key.Remote), false, true},
		{tcp(80, key.Local), true, true},
		{tcp(80, key.Remote), false, true},
		{tcp(443, key.Remote), false, true},
		{tcp(8080, key.Local), true, false},
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows\n got %v\nwant %v", got, want)
	}
	if s.Ports[1].Service != "ssh" || s.Ports[0].Service != "tcpmux" {
		t.Errorf("services %q, %q, want tcpmux, ssh", s.Ports[0].Service, s.Ports[1].Service)
	}
}
