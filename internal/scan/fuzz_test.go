package scan

import (
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf8"
)

// The byte parsers read what any server on the network chooses to send.
// These fuzz targets check that no input makes them panic and that what
// they return is fit to print. Seeds run in every `go test`; failing inputs
// found with `go test -fuzz` go under testdata/fuzz.

func checkPrintable(t *testing.T, what, s string, limit int) {
	t.Helper()
	if len(s) > limit || !utf8.ValidString(s) {
		t.Fatalf("%s %q: longer than %d or not UTF-8", what, s, limit)
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			t.Fatalf("%s %q: unprintable %q", what, s, r)
		}
	}
}

func FuzzMatchBanner(f *testing.F) {
	for _, s := range []string{
		"SSH-2.0-OpenSSH_9.6\r\n", "220 ESMTP\r\n", "220 FTP\r\n", "+OK\r\n", "* OK\r\n",
		"RFB 003.008\n", string(mysqlHandshake("8.0.36")), string(mysqlError(1130, "Host not allowed")),
		"\x0a\x00\x00\x00\x0a5.7\x00", "\xff\xff\xff\x00\xff", "",
	} {
		f.Add([]byte(s), "")
	}
	f.Add([]byte("220 hi\r\n"), "ftp")
	f.Fuzz(func(t *testing.T, b []byte, hint string) {
		in, ok := matchBanner(b, hint)
		if ok && in.Service == "" {
			t.Fatal("match without a service")
		}
		checkPrintable(t, "banner", in.Banner, maxBanner+len("error 65535: "))
		checkPrintable(t, "line", firstLine(b), maxBanner)
	})
}

func FuzzParseHTTP(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server."))
	f.Add([]byte("HTTP/1.1 200\n"))
	f.Add([]byte("HTTP/"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, ok := parseHTTP(b)
		if !ok {
			return
		}
		if r.Code < 100 || r.Code > 999 || !strings.HasPrefix(r.Status, "HTTP/") {
			t.Fatalf("bad reply %+v", r)
		}
		checkPrintable(t, "status", r.Status, maxBanner)
		checkPrintable(t, "server", r.Server, maxBanner)
	})
}

func FuzzParseDNSReply(f *testing.F) {
	q := &dnsQuestion{id: 0x1234}
	f.Add(dnsAnswer("9.18")(q.packet()))
	f.Add(q.packet())
	f.Add([]byte{0x12, 0x34, 0x80, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0xc0, 12, 0, 16, 0, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		rcode, txt, ok := parseDNSReply(b, 0x1234)
		if !ok {
			return
		}
		if rcode < 0 || rcode > 15 {
			t.Fatalf("rcode %d", rcode)
		}
		checkPrintable(t, "txt", txt, maxBanner)
		if in, ok := q.judge(b); !ok || in.Service != "domain" {
			t.Fatalf("judge disagrees: %+v %v", in, ok)
		}
	})
}

func FuzzParseNTPReply(f *testing.F) {
	q := &ntpQuestion{nonce: 0x0102030405060708}
	f.Add(ntpAnswer(q.packet()))
	f.Add(q.packet())
	f.Add(make([]byte, 48))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, ok := parseNTPReply(b, q.nonce)
		if !ok {
			return
		}
		if len(b) < 48 || b[0]&7 != 4 || binary.BigEndian.Uint64(b[24:]) != q.nonce {
			t.Fatalf("accepted a reply that is not one: % x", b)
		}
		checkPrintable(t, "detail", d, 80)
	})
}

func FuzzParseRedisPostgres(f *testing.F) {
	for _, s := range []string{"+PONG\r\n", "-NOAUTH x\r\n", "-DENIED y\r\n", "S", "N", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, ok := parseRedis(b); ok {
			checkPrintable(t, "redis", d, maxBanner+len("protected mode: "))
		}
		if _, ok := parsePostgres(b); ok && len(b) != 1 {
			t.Fatalf("postgres answer of %d bytes", len(b))
		}
	})
}
