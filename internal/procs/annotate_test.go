package procs

import (
	"context"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/snapshot"
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func handTable(privileged bool) *Table {
	any4 := ap("0.0.0.0:0")
	t := &Table{
		Privileged: privileged,
		Sockets: []Socket{
			{Proto: key.TCP, Local: ap("0.0.0.0:22"), Remote: any4, Listening: true, PID: 100, Inode: 1},
			{Proto: key.TCP, Local: ap("10.0.0.5:22"), Remote: ap("10.0.0.9:51000"), PID: 101, Inode: 2},
			{Proto: key.TCP, Local: ap("10.0.0.5:40000"), Remote: ap("93.184.216.34:443"), PID: 300, Inode: 3},
			{Proto: key.TCP, Local: ap("10.0.0.5:40002"), Remote: ap("142.250.1.1:443"), PID: 700, Inode: 4},
			{Proto: key.TCP, Local: ap("10.0.0.5:40003"), Remote: ap("142.250.1.2:443"), PID: 800, Inode: 5},
			{Proto: key.TCP, Local: ap("0.0.0.0:8080"), Remote: any4, Listening: true, Inode: 6},
			{Proto: key.UDP, Local: ap("0.0.0.0:45000"), Remote: any4, Listening: true, PID: 300, Inode: 7},
			{Proto: key.TCP, Local: ap("10.0.0.5:40009"), Remote: ap("10.0.0.1:5432"), Inode: 8},
		},
		Processes: map[int32]snapshot.Process{
			100: {PID: 100, Name: "sshd", User: "root"},
			101: {PID: 101, Name: "sshd", User: "alice"},
			300: {PID: 300, Name: "curl", User: "bob"},
			700: {PID: 700, Name: "firefox", User: "bob"},
			800: {PID: 800, Name: "wget", User: "bob"},
		},
	}
	t.index()
	return t
}

func TestAnnotate(t *testing.T) {
	ssh := key.Key{Proto: key.TCP, Port: 22, Side: key.Local}
	https := key.Key{Proto: key.TCP, Port: 443, Side: key.Remote}
	alt := key.Key{Proto: key.TCP, Port: 8080, Side: key.Local}
	dns := key.Key{Proto: key.UDP, Port: 53, Side: key.Remote}
	none := key.Key{Proto: key.TCP, Port: 9999, Side: key.Local}
	pg := key.Key{Proto: key.TCP, Port: 5432, Side: key.Remote}
	flows := []snapshot.Flow{
		{Key: ssh, Local: ap("10.0.0.5:22"), Peer: ap("10.0.0.9:51000"), Total: snapshot.Counters{RxBytes: 100, TxBytes: 200}},
		{Key: https, Local: ap("10.0.0.5:40000"), Peer: ap("93.184.216.34:443"), Total: snapshot.Counters{RxBytes: 5000}},
		{Key: https, Local: ap("[::ffff:10.0.0.5]:40002"), Peer: ap("[::ffff:142.250.1.1]:443"), Total: snapshot.Counters{RxBytes: 90000, TxBytes: 1}},
		{Key: https, Local: ap("10.0.0.5:40100"), Peer: ap("1.1.1.1:443"), Total: snapshot.Counters{RxBytes: 1 << 30}}, // never seen
		{Key: dns, Local: ap("10.0.0.5:45000"), Peer: ap("8.8.8.8:53"), Total: snapshot.Counters{TxBytes: 60, RxBytes: 120}},
	}
	ports := []snapshot.Port{
		{Key: ssh}, {Key: https}, {Key: alt}, {Key: dns},
		{Key: none, Process: "stale", PID: 9, ProcessNote: "stale", Listening: true},
		{Key: pg},
	}
	Annotate(ports, flows, handTable(false))

	want := []snapshot.Port{
		{Key: ssh, Listening: true, Process: "sshd", PID: 100, Processes: []snapshot.Process{
			{PID: 100, Name: "sshd", User: "root"},
			{PID: 101, Name: "sshd", User: "alice", Bytes: 300},
		}},
		{Key: https, Process: "firefox", PID: 700, Processes: []snapshot.Process{
			{PID: 700, Name: "firefox", User: "bob", Bytes: 90001},
			{PID: 300, Name: "curl", User: "bob", Bytes: 5000},
			{PID: 800, Name: "wget", User: "bob"},
		}},
		{Key: alt, Listening: true, ProcessNote: NoteNeedsPrivilege},
		{Key: dns, Process: "curl", PID: 300, Processes: []snapshot.Process{{PID: 300, Name: "curl", User: "bob", Bytes: 180}}},
		{Key: none},
		{Key: pg, ProcessNote: NoteNeedsPrivilege},
	}
	for i := range want {
		if !reflect.DeepEqual(ports[i], want[i]) {
			t.Errorf("%v:\n got %+v\nwant %+v", want[i].Key, ports[i], want[i])
		}
	}

	Annotate(ports[2:3], nil, handTable(true))
	if ports[2].ProcessNote != NoteNotVisible || !ports[2].Listening {
		t.Errorf("privileged, hidden listener: got %+v, want note %q", ports[2], NoteNotVisible)
	}
	Annotate(ports, flows, nil)
	for _, p := range ports {
		if p.Process != "" || p.PID != 0 || p.Processes != nil || p.ProcessNote != "" || p.Listening {
			t.Errorf("nil table: %v not cleared: %+v", p.Key, p)
		}
	}
}

func TestListeningPortsNil(t *testing.T) {
	if ListeningPorts(nil) != nil || (*Table)(nil).Listening() != nil {
		t.Error("nil table: want nil")
	}
	if _, ok := (*Table)(nil).Process(1); ok {
		t.Error("nil table: want no process")
	}
}

func TestParsePortRange(t *testing.T) {
	if lo, hi, err := parsePortRange("32768\t60999\n"); err != nil || lo != 32768 || hi != 60999 {
		t.Fatalf("got %d %d %v", lo, hi, err)
	}
	for _, bad := range []string{"", "1", "a b", "60999 32768", "1 70000"} {
		if _, _, err := parsePortRange(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// listReader is a socketReader listing a fixed set of sockets.
type listReader struct{ socks []Socket }

func (r *listReader) read(context.Context, string, bool, bool) ([]Socket, RefreshStats, error) {
	return slices.Clone(r.socks), RefreshStats{Connections: true}, nil
}
func (r *listReader) recycle([]Socket) {}
func (r *listReader) skip(string) bool { return false }

// TestListeningPortsMadeOnce checks that ListeningPorts answers from the
// table's index, made once per listing that changed something: the engine
// asks on every tick.
func TestListeningPortsMadeOnce(t *testing.T) {
	listen := func(p key.Proto, port uint16) Socket {
		return Socket{Proto: p, Listening: true, UID: -1, Local: netip.AddrPortFrom(netip.IPv4Unspecified(), port)}
	}
	r := &listReader{socks: []Socket{listen(key.TCP, 443), listen(key.UDP, 53), listen(key.TCP, 22), listen(key.TCP, 443)}}
	s := NewScanner(Options{})
	s.sockets = r
	ctx := context.Background()
	first, err := s.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []key.Key{{Proto: key.TCP, Port: 22}, {Proto: key.UDP, Port: 53}, {Proto: key.TCP, Port: 443}}
	a := ListeningPorts(first)
	if !slices.Equal(a, want) {
		t.Fatalf("ListeningPorts = %v, want %v", a, want)
	}
	second, err := s.Refresh(ctx) // the same sockets
	if err != nil {
		t.Fatal(err)
	}
	if b := ListeningPorts(second); &b[0] != &a[0] {
		t.Error("an unchanged listing made the listening ports again")
	}
	r.socks = append(r.socks, listen(key.TCP, 80))
	third, err := s.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want = slices.Insert(want, 2, key.Key{Proto: key.TCP, Port: 80})
	if c := ListeningPorts(third); !slices.Equal(c, want) {
		t.Errorf("after a new listener: %v, want %v", c, want)
	}
}
