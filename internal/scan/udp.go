package scan

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/porttop/porttop/internal/key"
)

// udpWorkers bounds the UDP ports probed at once.
const udpWorkers = 32

// probeUDP asks each UDP port a DNS and an NTP question (the one the
// services table suggests first). An answer is open, ICMP port unreachable
// is closed, silence is open|filtered.
func (s *sweeper) probeUDP(ctx context.Context, ports []Port) {
	work := make(chan *Port)
	var wg sync.WaitGroup
	for range min(udpWorkers, s.cfg.Concurrency, len(ports)) {
		wg.Go(func() {
			for p := range work {
				s.probeUDPPort(ctx, p)
				s.prog.done.Add(1)
				if p.State == Open {
					s.prog.open.Add(1)
				}
			}
		})
	}
	for i := range ports {
		if ctx.Err() != nil {
			break
		}
		work <- &ports[i]
	}
	close(work)
	wg.Wait()
}

// udpQuestion builds a question and judges an answer to it.
type udpQuestion interface {
	packet() []byte
	judge(answer []byte) (ident, bool)
}

func (s *sweeper) probeUDPPort(ctx context.Context, p *Port) {
	hint := s.cfg.ServiceName(key.UDP, p.Port)
	qs := []udpQuestion{newDNSQuestion(), newNTPQuestion()}
	if strings.Contains(hint, "ntp") {
		qs[0], qs[1] = qs[1], qs[0]
	}
	p.State, p.Reason = OpenFiltered, "no-response"
	p.Service, p.Guess = hint, hint != ""
	for _, q := range qs {
		if ctx.Err() != nil {
			return
		}
		ans, err := s.askUDP(ctx, p.Port, q.packet())
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			p.State, p.Reason, p.Service, p.Guess = Closed, "port-unreachable", hint, hint != ""
			return
		case err != nil && !isTimeout(err):
			st, reason := Classify(err)
			if st != Unknown || isLocalError(err) {
				p.State, p.Reason = st, reason
				return
			}
			continue
		case len(ans) == 0:
			continue
		}
		p.State, p.Reason = Open, "udp-response"
		if in, ok := q.judge(ans); ok {
			p.Service, p.Guess, p.Banner, p.Detail = in.Service, false, in.Banner, in.Detail
			return
		}
		p.Detail = fmt.Sprintf("unrecognised %d-byte answer", len(ans))
		return
	}
}

// askUDP sends q from a connected UDP socket (so an ICMP port unreachable
// comes back as ECONNREFUSED) and waits up to ProbeTimeout for one answer.
func (s *sweeper) askUDP(ctx context.Context, port uint16, q []byte) ([]byte, error) {
	if s.lim != nil {
		if err := s.lim.wait(ctx); err != nil {
			return nil, err
		}
	}
	d := net.Dialer{Timeout: s.cfg.Timeout}
	c, err := d.DialContext(ctx, "udp", netip.AddrPortFrom(s.addr, port).String())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(s.cfg.ProbeTimeout)); err != nil {
		return nil, err
	}
	if _, err := c.Write(q); err != nil {
		return nil, err
	}
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	return buf[:n], err
}

// dnsQuestion asks "version.bind. CH TXT" (RFC 4892's server-identity
// convention): every DNS server answers it, if only with REFUSED, and it
// makes no resolver recurse.
type dnsQuestion struct{ id uint16 }

func newDNSQuestion() *dnsQuestion { return &dnsQuestion{id: uint16(rand.Uint32())} }

func (q *dnsQuestion) packet() []byte {
	b := make([]byte, 12, 12+14+4)
	binary.BigEndian.PutUint16(b[0:], q.id)
	binary.BigEndian.PutUint16(b[4:], 1) // QDCOUNT
	b = append(b, 7, 'v', 'e', 'r', 's', 'i', 'o', 'n', 4, 'b', 'i', 'n', 'd', 0)
	b = binary.BigEndian.AppendUint16(b, dnsTypeTXT)
	b = binary.BigEndian.AppendUint16(b, dnsClassCH)
	return b
}

const (
	dnsTypeTXT = 16
	dnsClassCH = 3
)

var dnsRcodes = [...]string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"}

func (q *dnsQuestion) judge(b []byte) (ident, bool) {
	rcode, version, ok := parseDNSReply(b, q.id)
	if !ok {
		return ident{}, false
	}
	name := fmt.Sprintf("RCODE%d", rcode)
	if rcode < len(dnsRcodes) {
		name = dnsRcodes[rcode]
	}
	d := "rcode " + name
	if version != "" {
		d += "; version.bind " + version
	}
	return ident{Service: "domain", Banner: version, Detail: d}, true
}

// parseDNSReply checks that b is a DNS response to query id and returns its
// rcode and, when the answer holds a TXT record, its first string.
func parseDNSReply(b []byte, id uint16) (rcode int, txt string, ok bool) {
	if len(b) < 12 || binary.BigEndian.Uint16(b) != id || b[2]&0x80 == 0 || b[2]>>3&0xf != 0 {
		return 0, "", false
	}
	rcode = int(b[3] & 0xf)
	qd := int(binary.BigEndian.Uint16(b[4:]))
	an := int(binary.BigEndian.Uint16(b[6:]))
	off := 12
	for range min(qd, 16) {
		if off = skipDNSName(b, off); off < 0 || off+4 > len(b) {
			return rcode, "", true // a reply all the same, cut short
		}
		off += 4
	}
	for range min(an, 16) {
		if off = skipDNSName(b, off); off < 0 || off+10 > len(b) {
			break
		}
		typ := binary.BigEndian.Uint16(b[off:])
		rdlen := int(binary.BigEndian.Uint16(b[off+8:]))
		off += 10
		if off+rdlen > len(b) {
			break
		}
		if typ == dnsTypeTXT && rdlen > 0 {
			n := int(b[off])
			if n < rdlen {
				return rcode, firstLine(b[off+1 : off+1+n]), true
			}
		}
		off += rdlen
	}
	return rcode, "", true
}

// skipDNSName returns the offset just past the (possibly compressed) name
// at off, or -1 when the name runs off the end or is malformed.
func skipDNSName(b []byte, off int) int {
	for range 128 { // a name has at most 127 labels
		if off >= len(b) {
			return -1
		}
		l := int(b[off])
		switch {
		case l == 0:
			return off + 1
		case l&0xc0 == 0xc0:
			if off+2 > len(b) {
				return -1
			}
			return off + 2 // a pointer ends the name where it stands
		case l&0xc0 != 0:
			return -1
		}
		off += 1 + l
	}
	return -1
}

// ntpQuestion is an NTPv4 client request (mode 3) whose transmit timestamp
// is a random nonce; a server's reply (mode 4) must echo it as the origin
// timestamp (RFC 5905, RFC 9109).
type ntpQuestion struct{ nonce uint64 }

func newNTPQuestion() *ntpQuestion { return &ntpQuestion{nonce: rand.Uint64()} }

func (q *ntpQuestion) packet() []byte {
	b := make([]byte, 48)
	b[0] = 0<<6 | 4<<3 | 3 // LI 0, version 4, mode 3 (client)
	binary.BigEndian.PutUint64(b[40:], q.nonce)
	return b
}

func (q *ntpQuestion) judge(b []byte) (ident, bool) {
	d, ok := parseNTPReply(b, q.nonce)
	if !ok {
		return ident{}, false
	}
	return ident{Service: "ntp", Detail: d}, true
}

// parseNTPReply checks that b is a server reply (mode 4) to the request
// with transmit timestamp nonce and describes it.
func parseNTPReply(b []byte, nonce uint64) (string, bool) {
	if len(b) < 48 || b[0]&7 != 4 || binary.BigEndian.Uint64(b[24:]) != nonce {
		return "", false
	}
	version, stratum := b[0]>>3&7, b[1]
	d := fmt.Sprintf("NTPv%d, stratum %d", version, stratum)
	if ref := strings.TrimRight(string(b[12:16]), "\x00 "); stratum <= 1 && printable([]byte(ref)) {
		if stratum == 0 {
			d += ", kiss code " + ref
		} else {
			d += ", refid " + ref
		}
	}
	return d, true
}
