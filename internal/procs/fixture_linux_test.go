//go:build linux

package procs

import (
	"context"
	"encoding/binary"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gcommon "github.com/shirou/gopsutil/v3/common"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/snapshot"
)

// needLittleEndian skips a test whose fixtures hold addresses as a
// little-endian kernel prints them.
func needLittleEndian(t *testing.T) {
	t.Helper()
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("fixtures hold addresses in little-endian /proc/net format")
	}
}

// fixtureCtx points gopsutil and procs at a fixture /proc tree.
func fixtureCtx(dir string) context.Context {
	return context.WithValue(context.Background(), gcommon.EnvKey, gcommon.EnvMap{gcommon.HostProcEnvKey: dir})
}

func findSocket(t *testing.T, tb *Table, proto key.Proto, local string) Socket {
	t.Helper()
	want := netip.MustParseAddrPort(local)
	for _, s := range tb.Sockets {
		if s.Proto == proto && s.Local == want {
			return s
		}
	}
	t.Fatalf("no %v socket %s in %+v", proto, local, tb.Sockets)
	return Socket{}
}

func TestFixtureTable(t *testing.T) {
	needLittleEndian(t)
	s := NewScanner(Options{})
	s.privileged = true
	tb, err := s.Refresh(fixtureCtx(filepath.Join("testdata", "proc")))
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	// 10 in our namespace, and pid 500's namespace adds its one listener
	// (its connection is not listed; pid 200's namespace cannot be read).
	if got := len(tb.Sockets); got != 11 {
		t.Errorf("got %d sockets, want 11", got)
	}
	tests := []struct {
		proto     key.Proto
		local     string
		remote    string
		listening bool
		state     string
		pid       int32
		uid       int32
		netns     string
	}{
		{key.TCP, "0.0.0.0:22", "0.0.0.0:0", true, "LISTEN", 100, 0, ""},
		{key.TCP, "127.0.0.1:5432", "0.0.0.0:0", true, "LISTEN", 200, 999, ""},
		{key.TCP, "10.0.0.5:22", "10.0.0.9:51000", false, "ESTABLISHED", 101, 0, ""},
		{key.TCP, "10.0.0.5:40000", "93.184.216.34:443", false, "ESTABLISHED", 300, 1000, ""},
		{key.TCP, "10.0.0.5:40001", "1.2.3.4:443", false, "TIME_WAIT", 0, 0, ""},
		{key.TCP, "0.0.0.0:8080", "0.0.0.0:0", true, "LISTEN", 0, 1000, ""}, // its process exited
		{key.TCP, "[::]:80", "[::]:0", true, "LISTEN", 400, 0, ""},          // shared by 400 and 401: lowest wins
		{key.TCP, "10.0.0.5:80", "10.0.0.7:60000", false, "ESTABLISHED", 401, 33, ""},
		{key.UDP, "0.0.0.0:53", "0.0.0.0:0", true, "", 500, 0, ""},
		{key.UDP, "10.0.0.5:45000", "8.8.8.8:53", false, "", 300, 1000, ""},
		{key.UDP, "0.0.0.0:5353", "0.0.0.0:0", true, "", 500, 0, "netns:4026532100"},
	}
	for _, tt := range tests {
		sk := findSocket(t, tb, tt.proto, tt.local)
		if sk.Remote != netip.MustParseAddrPort(tt.remote) || sk.Listening != tt.listening ||
			sk.State != tt.state || sk.PID != tt.pid || sk.UID != tt.uid || sk.Netns != tt.netns {
			t.Errorf("%v %s: got %+v, want remote %s listening %v state %q pid %d uid %d netns %q",
				tt.proto, tt.local, sk, tt.remote, tt.listening, tt.state, tt.pid, tt.uid, tt.netns)
		}
	}
	if tb.Stats.Unresolved != 1 {
		t.Errorf("Unresolved = %d, want 1 (the socket of the exited process)", tb.Stats.Unresolved)
	}

	pg, ok := tb.Process(200)
	if !ok {
		t.Fatal("process 200 missing")
	}
	want := snapshot.Process{PID: 200, Name: "postgres", User: "root",
		Cmdline: "postgres -D /var/lib/postgresql", Namespace: "docker:aaaaaaaa0123"}
	if pg != want {
		t.Errorf("process 200: got %+v, want %+v", pg, want)
	}
	if p, _ := tb.Process(500); p.Namespace != "netns:4026532100" {
		t.Errorf("process 500 namespace = %q, want netns:4026532100", p.Namespace)
	}
	if p, _ := tb.Process(100); p.Namespace != "" || p.Name != "sshd" || p.Cmdline != "/usr/sbin/sshd -D" {
		t.Errorf("process 100: got %+v", p)
	}
	if _, ok := tb.Process(600); ok {
		t.Error("process 600 owns no socket but is in the table")
	}

	wantPorts := []key.Key{
		{Proto: key.TCP, Port: 22}, {Proto: key.UDP, Port: 53}, {Proto: key.TCP, Port: 80},
		{Proto: key.UDP, Port: 5353}, {Proto: key.TCP, Port: 5432}, {Proto: key.TCP, Port: 8080},
	}
	if got := ListeningPorts(tb); !equalKeys(got, wantPorts) {
		t.Errorf("ListeningPorts = %v, want %v", got, wantPorts)
	}
	ls := tb.Listening()
	var order []uint16
	for _, s := range ls {
		order = append(order, s.Local.Port())
	}
	if len(order) != 6 || order[0] != 22 || order[1] != 53 || order[2] != 80 || order[5] != 8080 {
		t.Errorf("Listening order = %v", order)
	}
}

// TestFixtureHiddenOwner: the 8080 listener's process exited (no process
// holds its inode); the row says why it has no process.
func TestFixtureHiddenOwner(t *testing.T) {
	needLittleEndian(t)
	for _, tt := range []struct {
		privileged bool
		note       string
	}{{true, NoteNotVisible}, {false, NoteNeedsPrivilege}} {
		s := NewScanner(Options{})
		s.privileged = tt.privileged
		tb, err := s.Refresh(fixtureCtx(filepath.Join("testdata", "proc")))
		if err != nil {
			t.Fatal(err)
		}
		ports := []snapshot.Port{
			{Key: key.Key{Proto: key.TCP, Port: 8080, Side: key.Local}},
			{Key: key.Key{Proto: key.TCP, Port: 5432, Side: key.Local}},
		}
		Annotate(ports, nil, tb)
		if p := ports[0]; !p.Listening || p.Process != "" || p.PID != 0 || p.ProcessNote != tt.note {
			t.Errorf("privileged %v: 8080 got %+v, want listening with note %q", tt.privileged, p, tt.note)
		}
		if p := ports[1]; p.Process != "postgres" || p.PID != 200 || p.ProcessNote != "" ||
			len(p.Processes) != 1 || p.Processes[0].Namespace != "docker:aaaaaaaa0123" {
			t.Errorf("privileged %v: 5432 got %+v", tt.privileged, p)
		}
	}
}

func equalKeys(a, b []key.Key) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// copyTree copies the fixture tree src into a new temporary directory,
// symlinks included.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, out)
		case d.IsDir():
			return os.MkdirAll(out, 0o755)
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(out, b, 0o644)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestFixtureExitedKeepsProcess: curl (pid 300) exits, its connection goes
// to TIME_WAIT (no inode), and the flow still names curl.
func TestFixtureExitedKeepsProcess(t *testing.T) {
	needLittleEndian(t)
	dir := copyTree(t, filepath.Join("testdata", "proc"))
	s := NewScanner(Options{RecentTTL: time.Minute})
	s.privileged = true
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	ctx := fixtureCtx(dir)
	if _, err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "300")); err != nil {
		t.Fatal(err)
	}
	tcpPath := filepath.Join(dir, "net", "tcp")
	b, err := os.ReadFile(tcpPath)
	if err != nil {
		t.Fatal(err)
	}
	// ESTABLISHED with inode 1004 → TIME_WAIT with no inode.
	old := "0500000A:9C40 22D8B85D:01BB 01"
	if !strings.Contains(string(b), old) {
		t.Fatal("fixture changed: connection line not found")
	}
	nb := strings.Replace(string(b), old, "0500000A:9C40 22D8B85D:01BB 06", 1)
	nb = strings.Replace(nb, " 1004 1 ", " 0 1 ", 1)
	if err := os.WriteFile(tcpPath, []byte(nb), 0o644); err != nil {
		t.Fatal(err)
	}

	now = now.Add(30 * time.Second)
	tb, err := s.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sk := findSocket(t, tb, key.TCP, "10.0.0.5:40000"); sk.PID != 0 || sk.State != "TIME_WAIT" {
		t.Fatalf("socket: got %+v, want TIME_WAIT without owner", sk)
	}
	row := key.Key{Proto: key.TCP, Port: 443, Side: key.Remote}
	flows := []snapshot.Flow{{
		Key: row, Local: netip.MustParseAddrPort("10.0.0.5:40000"), Peer: netip.MustParseAddrPort("93.184.216.34:443"),
		Total: snapshot.Counters{RxBytes: 5000, TxBytes: 700},
	}}
	ports := []snapshot.Port{{Key: row}}
	Annotate(ports, flows, tb)
	if ports[0].Process != "curl" || ports[0].PID != 300 || len(ports[0].Processes) != 1 || ports[0].Processes[0].Bytes != 5700 {
		t.Errorf("after exit: got %+v, want curl pid 300 with 5700 bytes", ports[0])
	}

	// Past RecentTTL the owner is forgotten.
	now = now.Add(2 * time.Minute)
	tb, err = s.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	Annotate(ports, flows, tb)
	if ports[0].Process != "" || ports[0].PID != 0 || ports[0].Processes != nil {
		t.Errorf("after TTL: got %+v, want no process", ports[0])
	}
}

// TestFixtureIncremental: a second refresh with nothing new reads no
// descriptors; a new socket in a known owner is found by reading only that
// owner's new descriptor.
func TestFixtureIncremental(t *testing.T) {
	needLittleEndian(t)
	dir := copyTree(t, filepath.Join("testdata", "proc"))
	s := NewScanner(Options{})
	ctx := fixtureCtx(dir)
	first, err := s.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first.Stats.FDsRead == 0 || first.Stats.NewProcesses != 7 {
		t.Errorf("first refresh: %+v, want descriptors read and 7 new processes", first.Stats)
	}
	second, err := s.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second.Stats.FDsRead != 0 || second.Stats.PidsScanned != 0 || second.Stats.NewProcesses != 0 {
		t.Errorf("idle refresh: %+v, want nothing read", second.Stats)
	}
	// Nothing changed: the second table shares the first one's sockets and
	// index instead of building them again.
	if &second.Sockets[0] != &first.Sockets[0] || len(second.Sockets) != len(first.Sockets) || len(second.conns) != len(first.conns) {
		t.Error("an unchanged table was built again instead of shared")
	}
	// Every owner known: the process list was not read again.
	if ls := s.sockets.(*linuxSockets); ls.sincePids != 1 {
		t.Errorf("refreshes since the process list was read: %d after an unchanged refresh, want 1", ls.sincePids)
	}

	// sshd (pid 100) accepts a new connection on fd 9.
	f, err := os.OpenFile(filepath.Join(dir, "net", "tcp"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString("   6: 0500000A:0016 0A00000A:C739 01 00000000:00000000 00:00000000 00000000     0        0 1007 1 0000000000000000 100 0 0 10 0\n")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("socket:[1007]", filepath.Join(dir, "100", "fd", "9")); err != nil {
		t.Fatal(err)
	}
	third, err := s.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sk := findSocket(t, third, key.TCP, "10.0.0.5:22"); sk.PID == 0 {
		t.Errorf("a 10.0.0.5:22 socket without owner")
	}
	found := false
	for _, sk := range third.Sockets {
		if sk.Inode == 1007 {
			found = sk.PID == 100
		}
	}
	if !found {
		t.Error("new socket 1007 not attributed to pid 100")
	}
	if ls := s.sockets.(*linuxSockets); ls.sincePids != 0 {
		t.Errorf("a new socket did not make the refresh read the process list (%d refreshes since)", ls.sincePids)
	}
	if &third.Sockets[0] == &second.Sockets[0] || len(third.Sockets) != len(second.Sockets)+1 || len(third.conns) != len(second.conns)+1 {
		t.Errorf("a changed table: %d sockets, %d connections after %d, %d; want a new table with one more of each",
			len(third.Sockets), len(third.conns), len(second.Sockets), len(second.conns))
	}
	// Only owners are scanned (the exited process's socket was given up on),
	// and of them only descriptors not known yet are read.
	if third.Stats.FullScan || third.Stats.FDsRead > 8 {
		t.Errorf("incremental refresh read too much: %+v", third.Stats)
	}
}

func TestFixtureErrors(t *testing.T) {
	s := NewScanner(Options{})
	if _, err := s.Refresh(fixtureCtx(filepath.Join("testdata", "missing"))); err == nil {
		t.Error("missing /proc: want an error")
	}
	dir := copyTree(t, filepath.Join("testdata", "proc"))
	if err := os.WriteFile(filepath.Join(dir, "net", "udp"), []byte("header\n   0: zz:0035 00000000:0000 07 0 0 0 0 0 3001\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := s.Refresh(fixtureCtx(dir))
	if err == nil || !strings.Contains(err.Error(), "udp") || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("malformed udp table: got %v, want an error naming the file and line", err)
	}
}
