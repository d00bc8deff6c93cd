package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/layers"
)

// needRoot skips a live test when the process may not capture.
func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (or cap_net_raw,cap_net_admin): skipping")
	}
}

// loopback returns the loopback interface's name (lo on Linux, lo0 on BSD).
func loopback(t testing.TB) string {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagLoopback != 0 && ifc.Flags&net.FlagUp != 0 {
			return ifc.Name
		}
	}
	t.Skip("no loopback interface up")
	return ""
}

// liveEngines are the engines to test on this platform.
func liveEngines() []Engine {
	if runtime.GOOS == "linux" {
		return []Engine{EnginePcap, EngineAFPacket}
	}
	return []Engine{EnginePcap}
}

// linkHeaderLen is the link-layer header length for the link types a
// loopback capture can have.
func linkHeaderLen(t testing.TB, linkType int) int {
	switch linkType {
	case int(layers.LinkTypeEthernet):
		return 14
	case int(layers.LinkTypeLinuxSLL):
		return 16
	case 276: // Linux cooked v2
		return 20
	case int(layers.LinkTypeNull), int(layers.LinkTypeLoop):
		return 4
	}
	t.Fatalf("unexpected link type %d on loopback", linkType)
	return 0
}

// udpBlast sends n datagrams of size bytes to addr, each starting with its
// sequence number.
func udpBlast(t testing.TB, network string, addr net.Addr, n, size int) {
	t.Helper()
	conn, err := net.Dial(network, addr.String())
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close()
	buf := make([]byte, size)
	for i := 0; i < n; i++ {
		binary.BigEndian.PutUint32(buf, uint32(i))
		if _, err := conn.Write(buf); err != nil {
			t.Error(err)
			return
		}
	}
}

// TestLiveLoopback sends known UDP datagrams over loopback and checks that
// each engine sees each of them exactly once, with Length the full frame
// length (link header included) and CaptureLength cut to the snaplen.
func TestLiveLoopback(t *testing.T) {
	needRoot(t)
	lo := loopback(t)
	const n = 100
	cases := []struct {
		network, host string
		payload       int
		ipHeader      int
	}{
		{"udp4", "127.0.0.1", 200, 20},
		{"udp6", "::1", 200, 40},
		{"udp4", "127.0.0.1", 1400, 20}, // larger than the snaplen
	}
	type run struct {
		iface  string
		engine Engine
	}
	runs := []run{}
	for _, e := range liveEngines() {
		runs = append(runs, run{lo, e})
	}
	if runtime.GOOS == "linux" {
		runs = append(runs, run{"any", EnginePcap})
	}
	for _, r := range runs {
		for _, tc := range cases {
			name := fmt.Sprintf("%s/%v/%s/%d", r.iface, r.engine, tc.network, tc.payload)
			t.Run(name, func(t *testing.T) {
				ln, err := net.ListenPacket(tc.network, net.JoinHostPort(tc.host, "0"))
				if err != nil {
					t.Skipf("no %s loopback: %v", tc.network, err)
				}
				defer ln.Close()
				port := ln.LocalAddr().(*net.UDPAddr).Port
				src, err := OpenLive(LiveOptions{Interface: r.iface, Engine: r.engine,
					Filter: fmt.Sprintf("udp and dst port %d", port)})
				if err != nil {
					t.Fatal(err)
				}
				defer src.Close()
				if got := src.(LiveSource).Engine(); got != r.engine {
					t.Fatalf("engine %v, want %v", got, r.engine)
				}
				hdr := linkHeaderLen(t, src.LinkType())
				wantLen := hdr + tc.ipHeader + 8 + tc.payload
				wantCap := min(wantLen, DefaultSnaplen)
				go udpBlast(t, tc.network, ln.LocalAddr(), n, tc.payload)

				seen := make([]int, n)
				got := 0
				deadline := time.Now().Add(5 * time.Second)
				var quietUntil time.Time // after the last packet, read a while for duplicates
				for time.Now().Before(deadline) && (quietUntil.IsZero() || time.Now().Before(quietUntil)) {
					var info Info
					data, err := src.ReadPacket(&info)
					if err == ErrTimeout {
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
					if info.Length != wantLen || info.CaptureLength != wantCap || len(data) != wantCap {
						t.Fatalf("packet lengths %d/%d (data %d), want %d/%d", info.CaptureLength, info.Length, len(data), wantCap, wantLen)
					}
					if time.Since(info.Timestamp) > time.Minute || time.Until(info.Timestamp) > time.Minute {
						t.Fatalf("timestamp %v is not now", info.Timestamp)
					}
					seq := binary.BigEndian.Uint32(data[hdr+tc.ipHeader+8:])
					if seq >= n {
						t.Fatalf("sequence number %d out of range", seq)
					}
					seen[seq]++
					if got++; got == n {
						quietUntil = time.Now().Add(300 * time.Millisecond)
					}
				}
				for i, c := range seen {
					if c != 1 {
						t.Fatalf("datagram %d seen %d times (%d packets in all)", i, c, got)
					}
				}
				st, err := src.Stats()
				if err != nil {
					t.Fatal(err)
				}
				if st.Received < n || st.Dropped != 0 {
					t.Fatalf("stats %+v, want at least %d received and none dropped", st, n)
				}
			})
		}
	}
}

// TestLiveCloseUnblocksRead: Close from another goroutine makes a
// ReadPacket waiting on an idle filter return io.EOF promptly.
func TestLiveCloseUnblocksRead(t *testing.T) {
	needRoot(t)
	lo := loopback(t)
	for _, e := range liveEngines() {
		t.Run(e.String(), func(t *testing.T) {
			src, err := OpenLive(LiveOptions{Interface: lo, Engine: e, Filter: "udp and port 9 and host 192.0.2.1"})
			if err != nil {
				t.Fatal(err)
			}
			timeouts := make(chan int, 1)
			done := make(chan error, 1)
			go func() {
				n := 0
				for {
					_, err := src.ReadPacket(new(Info))
					if err == ErrTimeout {
						if n++; n == 1 {
							timeouts <- n
						}
						continue
					}
					done <- err
					return
				}
			}()
			select {
			case <-timeouts:
			case <-time.After(3 * time.Second):
				t.Fatal("no ErrTimeout within 3s on an idle filter")
			}
			start := time.Now()
			if err := src.Close(); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != io.EOF {
					t.Fatalf("read after close: %v, want io.EOF", err)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("ReadPacket still blocked 2s after Close")
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("close took %v", d)
			}
			if err := src.Close(); err != nil {
				t.Fatalf("second close: %v", err)
			}
			if _, err := src.Stats(); err == nil {
				t.Fatal("stats after close: no error")
			}
		})
	}
}

func TestLiveAutoEngine(t *testing.T) {
	needRoot(t)
	lo := loopback(t)
	want := EnginePcap
	if runtime.GOOS == "linux" {
		want = EngineAFPacket
	}
	src, err := OpenLive(LiveOptions{Interface: lo})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if got := src.(LiveSource).Engine(); got != want {
		t.Fatalf("auto on %s chose %v, want %v", lo, got, want)
	}
	if runtime.GOOS != "linux" {
		return
	}
	anySrc, err := OpenLive(LiveOptions{Interface: "any"})
	if err != nil {
		t.Fatal(err)
	}
	defer anySrc.Close()
	if got := anySrc.(LiveSource).Engine(); got != EnginePcap {
		t.Fatalf("auto on any chose %v, want pcap", got)
	}
	if lt := anySrc.LinkType(); lt != 113 && lt != 276 {
		t.Fatalf("any: link type %d, want 113 or 276", lt)
	}
	if _, err := OpenLive(LiveOptions{Interface: "any", Engine: EngineAFPacket}); !errors.Is(err, ErrEngineUnavailable) {
		t.Fatalf("afpacket on any: %v, want ErrEngineUnavailable", err)
	}
}

func TestLiveBadFilter(t *testing.T) {
	needRoot(t)
	lo := loopback(t)
	for _, e := range liveEngines() {
		_, err := OpenLive(LiveOptions{Interface: lo, Engine: e, Filter: "port 99999"})
		if !errors.Is(err, ErrBadFilter) || !strings.HasPrefix(err.Error(), `bad filter "port 99999": `) {
			t.Errorf("%v: %v, want a bad filter error", e, err)
		}
	}
}

func TestOpenLiveUnknownInterface(t *testing.T) {
	lo := loopback(t)
	for _, e := range []Engine{EngineAuto, EnginePcap, EngineAFPacket} {
		_, err := OpenLive(LiveOptions{Interface: "nosuch0", Engine: e})
		if !errors.Is(err, ErrNoSuchInterface) {
			t.Fatalf("%v: %v, want ErrNoSuchInterface", e, err)
		}
		if !strings.HasPrefix(err.Error(), `no such interface "nosuch0"; available: `) || !strings.Contains(err.Error(), lo) {
			t.Fatalf("%v: %q does not list the interfaces", e, err)
		}
	}
}

func TestLiveOptionsChecked(t *testing.T) {
	for _, o := range []LiveOptions{
		{},
		{Interface: "lo", Snaplen: -1},
		{Interface: "lo", Snaplen: maxSnaplen + 1},
		{Interface: "lo", BufferSize: -5},
		{Interface: "lo", Timeout: time.Microsecond},
		{Interface: "lo", Engine: Engine(9)},
	} {
		if _, err := OpenLive(o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	o, err := LiveOptions{Interface: "lo"}.withDefaults()
	if err != nil || o.Snaplen != 128 || o.BufferSize != 4<<20 || o.Timeout != 0 {
		t.Fatalf("defaults %+v, %v", o, err)
	}
}

func TestParseEngine(t *testing.T) {
	for in, want := range map[string]Engine{"": EngineAuto, "auto": EngineAuto, "PCAP": EnginePcap, "afpacket": EngineAFPacket} {
		got, err := ParseEngine(in)
		if err != nil || got != want {
			t.Errorf("ParseEngine(%q) = %v, %v", in, got, err)
		}
	}
	for _, e := range []Engine{EngineAuto, EnginePcap, EngineAFPacket} {
		if got, err := ParseEngine(e.String()); err != nil || got != e {
			t.Errorf("round trip %v: %v, %v", e, got, err)
		}
	}
	if _, err := ParseEngine("dpdk"); err == nil || err.Error() != `unknown capture engine "dpdk" (want auto, pcap or afpacket)` {
		t.Errorf("ParseEngine(dpdk): %v", err)
	}
}

func TestOpenErrorClassifies(t *testing.T) {
	for _, msg := range []string{
		"Permission Denied", // gopacket's activate error
		"socket: Operation not permitted",
		"You don't have permission to capture on that device (socket: Operation not permitted)",
	} {
		err := openError("eth0", errors.New(msg))
		if !errors.Is(err, ErrPermission) {
			t.Errorf("%q: %v, want ErrPermission", msg, err)
			continue
		}
		want := "capture on eth0: permission denied: run as root or grant capabilities: sudo setcap cap_net_raw,cap_net_admin=eip $(command -v porttop)"
		if err.Error() != want {
			t.Errorf("%q: message %q", msg, err)
		}
	}
	if err := openError("eth9", errors.New("No Such Device")); !errors.Is(err, ErrNoSuchInterface) {
		t.Errorf("no such device: %v", err)
	}
	err := openError("eth0", errors.New("Interface Not Up"))
	if errors.Is(err, ErrPermission) || errors.Is(err, ErrNoSuchInterface) || err.Error() != "capture on eth0: interface Not Up" {
		t.Errorf("other error: %v", err)
	}
}

// TestLiveFilterFromFirstPacket: while other traffic streams on loopback,
// a freshly opened source must not hand out packets its filter rejects
// (AF_PACKET queues packets between binding the socket and attaching the
// filter; those must not come out).
func TestLiveFilterFromFirstPacket(t *testing.T) {
	needRoot(t)
	lo := loopback(t)
	noise, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer noise.Close()
	quiet, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer quiet.Close()
	stop := make(chan struct{})
	blasting := make(chan struct{})
	go func() {
		defer close(blasting)
		conn, err := net.Dial("udp4", noise.LocalAddr().String())
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		buf := make([]byte, 32)
		for i := 0; i < 2_000_000; i++ { // bounded: about 20 s at most
			select {
			case <-stop:
				return
			default:
			}
			conn.Write(buf)
		}
	}()
	defer func() { close(stop); <-blasting }()
	filter := fmt.Sprintf("udp and dst port %d", quiet.LocalAddr().(*net.UDPAddr).Port)
	for _, e := range liveEngines() {
		for i := 0; i < 10; i++ {
			src, err := OpenLive(LiveOptions{Interface: lo, Engine: e, Filter: filter, Timeout: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			for j := 0; j < 3; j++ {
				var info Info
				data, err := src.ReadPacket(&info)
				if err == nil {
					msg := fmt.Sprintf("%v, open %d: a packet the filter rejects came out (%d bytes: % x)",
						e, i, info.Length, data[:min(len(data), 48)]) // data dies with Close
					src.Close()
					t.Fatal(msg)
				}
				if err != ErrTimeout {
					t.Fatal(err)
				}
			}
			src.Close()
		}
	}
}
