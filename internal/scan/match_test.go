package scan

import (
	"encoding/binary"
	"strings"
	"testing"
)

func TestMatchBanner(t *testing.T) {
	cases := []struct {
		in      string
		hint    string
		service string
		banner  string
		detail  string
	}{
		{"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3\r\n", "", "ssh", "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3", "protocol 2.0; OpenSSH_9.6p1 Ubuntu-3"},
		{"SSH-1.99-Cisco-1.25\n", "", "ssh", "SSH-1.99-Cisco-1.25", "protocol 1.99; Cisco-1.25"},
		{"220 smtp.example.com ESMTP Exim 4.96\r\n", "", "smtp", "220 smtp.example.com ESMTP Exim 4.96", ""},
		{"220-mail.example.com welcome\r\n220 more\r\n", "", "smtp", "220-mail.example.com welcome", ""},
		{"220 ProFTPD Server ready.\r\n", "", "ftp", "220 ProFTPD Server ready.", ""},
		{"220 Welcome\r\n", "ftp", "ftp", "220 Welcome", ""},
		{"220 Welcome\r\n", "", "smtp", "220 Welcome", ""},
		{"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n", "", "pop3", "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>", ""},
		{"* OK [CAPABILITY IMAP4rev1 SASL-IR] Dovecot ready.\r\n", "", "imap", "* OK [CAPABILITY IMAP4rev1 SASL-IR] Dovecot ready.", ""},
		{"* PREAUTH IMAP4rev1 server logged in as Smith\r\n", "", "imap", "* PREAUTH IMAP4rev1 server logged in as Smith", ""},
		{"RFB 003.008\n", "", "vnc", "RFB 003.008", "protocol 003.008"},
		{string(mysqlHandshake("5.7.44-log")), "", "mysql", "version 5.7.44-log", "version 5.7.44-log"},
		{string(mysqlError(1129, "Host 'x' is blocked")), "", "mysql", "error 1129: Host 'x' is blocked", "error 1129: Host 'x' is blocked"},
	}
	for _, c := range cases {
		got, ok := matchBanner([]byte(c.in), c.hint)
		if !ok || got.Service != c.service || got.Banner != c.banner || got.Detail != c.detail {
			t.Errorf("matchBanner(%q, %q) = %+v, %v; want %s %q %q", c.in, c.hint, got, ok, c.service, c.banner, c.detail)
		}
	}
	for _, in := range []string{"", "hello", "2200 not smtp", "SSH", "+O", "* NO", "RFB", "\x05\x00\x00\x00\x0a5.7\x00",
		string(mysqlError(1130, "bad\x00msg")), "\x03\x00\x00\x00\xff\x01\x00"} {
		if got, ok := matchBanner([]byte(in), ""); ok {
			t.Errorf("matchBanner(%q) = %+v, want no match", in, got)
		}
	}
}

func TestFirstLine(t *testing.T) {
	long := strings.Repeat("x", 300)
	cases := map[string]string{
		"":                     "",
		"  abc \r\ndef":        "abc",
		"a\x00b\xffc\n":        "a.b.c",
		long:                   long[:maxBanner],
		"\tindented\ttabs\r\n": ".indented.tabs",
	}
	for in, want := range cases {
		if got := firstLine([]byte(in)); got != want {
			t.Errorf("firstLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseHTTP(t *testing.T) {
	cases := []struct {
		in     string
		status string
		code   int
		server string
		tls    bool
	}{
		{"HTTP/1.1 200 OK\r\nServer: nginx/1.25.3\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 200 OK", 200, "nginx/1.25.3", false},
		{"HTTP/1.0 301 Moved\r\nserver:   Apache  \r\n\r\nbody\r\nServer: fake\r\n", "HTTP/1.0 301 Moved", 301, "Apache", false},
		{"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain", "HTTP/1.1 404 Not Found", 404, "", false},
		{"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n", "HTTP/1.0 400 Bad Request", 400, "", true},
		{"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n<html>The plain HTTP request was sent to HTTPS port</html>", "HTTP/1.1 400 Bad Request", 400, "nginx", true},
		{"HTTP/2 200\r\n\r\n", "HTTP/2 200", 200, "", false},
	}
	for _, c := range cases {
		got, ok := parseHTTP([]byte(c.in))
		if !ok || got.Status != c.status || got.Code != c.code || got.Server != c.server || got.PlainToTLS != c.tls {
			t.Errorf("parseHTTP(%q) = %+v, %v", c.in, got, ok)
		}
	}
	for _, in := range []string{"", "HTTP/", "HTTP/1.1", "HTTP/1.1 abc OK", "HTTP/1.1 20 OK", "HTTP/1.1 099 x", "SSH-2.0-x", "http/1.1 200 OK"} {
		if got, ok := parseHTTP([]byte(in)); ok {
			t.Errorf("parseHTTP(%q) = %+v, want no match", in, got)
		}
	}
	if d := (httpReply{Status: "HTTP/1.1 200 OK", Server: "x"}).detail(); d != "HTTP/1.1 200 OK; server x" {
		t.Errorf("detail %q", d)
	}
}

func TestParseRedisPostgres(t *testing.T) {
	for in, want := range map[string]string{
		"+PONG\r\n":                                      "PING answered",
		"-NOAUTH Authentication required.\r\n":           "authentication required",
		"-WRONGPASS invalid username-password\r\n":       "authentication required",
		"-DENIED Redis is running in protected mode\r\n": "protected mode: DENIED Redis is running in protected mode",
	} {
		if got, ok := parseRedis([]byte(in)); !ok || got != want {
			t.Errorf("parseRedis(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "+OK", "-ERR unknown command", "PONG"} {
		if _, ok := parseRedis([]byte(in)); ok {
			t.Errorf("parseRedis(%q) matched", in)
		}
	}
	for in, want := range map[string]string{"S": "SSL supported", "N": "SSL not supported"} {
		if got, ok := parsePostgres([]byte(in)); !ok || got != want {
			t.Errorf("parsePostgres(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "X", "SS", "N\x00", "HTTP/1.1 400"} {
		if _, ok := parsePostgres([]byte(in)); ok {
			t.Errorf("parsePostgres(%q) matched", in)
		}
	}
}

func TestDNSQuestionAndReply(t *testing.T) {
	q := newDNSQuestion()
	pkt := q.packet()
	if len(pkt) != 12+14+4 || binary.BigEndian.Uint16(pkt) != q.id || binary.BigEndian.Uint16(pkt[4:]) != 1 {
		t.Fatalf("query % x", pkt)
	}
	if end := skipDNSName(pkt, 12); end != len(pkt)-4 {
		t.Fatalf("question name ends at %d", end)
	}
	reply := dnsAnswer("1.2.3")(pkt)
	in, ok := q.judge(reply)
	if !ok || in.Service != "domain" || in.Detail != "rcode NOERROR; version.bind 1.2.3" || in.Banner != "1.2.3" {
		t.Errorf("judge = %+v, %v", in, ok)
	}
	refused := append([]byte(nil), pkt...)
	refused[2], refused[3] = 0x80, 5
	if in, ok := q.judge(refused); !ok || in.Detail != "rcode REFUSED" {
		t.Errorf("refused: %+v %v", in, ok)
	}
	refused[3] = 11
	if in, ok := q.judge(refused); !ok || in.Detail != "rcode RCODE11" {
		t.Errorf("rcode 11: %+v %v", in, ok)
	}
	wrongID := append([]byte(nil), reply...)
	wrongID[0] ^= 0xff
	for name, b := range map[string][]byte{"query echoed": pkt, "wrong id": wrongID, "short": reply[:11]} {
		if _, ok := q.judge(b); ok {
			t.Errorf("%s: accepted", name)
		}
	}
	// Cut-short replies still count as DNS but give no version.
	for n := 12; n < len(reply); n++ {
		if _, _, ok := parseDNSReply(reply[:n], q.id); !ok {
			t.Errorf("reply cut to %d bytes rejected", n)
		}
	}
}

func TestSkipDNSName(t *testing.T) {
	cases := []struct {
		in   []byte
		want int
	}{
		{[]byte{0}, 1},
		{[]byte{3, 'w', 'w', 'w', 0}, 5},
		{[]byte{3, 'w', 'w', 'w', 0xc0, 12}, 6},
		{[]byte{3, 'w', 'w'}, -1},
		{[]byte{0x40}, -1},
		{[]byte{0xc0}, -1},
		{[]byte{}, -1},
	}
	for _, c := range cases {
		if got := skipDNSName(c.in, 0); got != c.want {
			t.Errorf("skipDNSName(% x) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestNTPQuestionAndReply(t *testing.T) {
	q := newNTPQuestion()
	pkt := q.packet()
	if len(pkt) != 48 || pkt[0] != 0x23 || binary.BigEndian.Uint64(pkt[40:]) != q.nonce {
		t.Fatalf("request % x", pkt)
	}
	in, ok := q.judge(ntpAnswer(pkt))
	if !ok || in.Service != "ntp" || in.Detail != "NTPv4, stratum 2" {
		t.Errorf("judge = %+v, %v", in, ok)
	}
	s1 := ntpAnswer(pkt)
	s1[1] = 1
	copy(s1[12:16], "GPS\x00")
	if d, ok := parseNTPReply(s1, q.nonce); !ok || d != "NTPv4, stratum 1, refid GPS" {
		t.Errorf("stratum 1: %q %v", d, ok)
	}
	kod := ntpAnswer(pkt)
	kod[1] = 0
	copy(kod[12:16], "RATE")
	if d, ok := parseNTPReply(kod, q.nonce); !ok || d != "NTPv4, stratum 0, kiss code RATE" {
		t.Errorf("kiss of death: %q %v", d, ok)
	}
	otherNonce := ntpAnswer(pkt)
	otherNonce[24] ^= 1
	clientMode := ntpAnswer(pkt)
	clientMode[0] = 0x23
	for name, b := range map[string][]byte{"nonce": otherNonce, "mode": clientMode, "short": ntpAnswer(pkt)[:47]} {
		if _, ok := q.judge(b); ok {
			t.Errorf("%s: accepted", name)
		}
	}
}
