package scan

import (
	"bytes"
	"strconv"
	"strings"
)

// ident is what identification learned about an open port.
type ident struct {
	Service string
	Guess   bool
	Banner  string
	TLS     string
	Detail  string
}

// maxBanner is the longest banner kept, in characters.
const maxBanner = 120

// firstLine returns the first line of b as printable ASCII: other bytes
// become '.', surrounding space is trimmed and the result is cut to
// maxBanner characters.
func firstLine(b []byte) string {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		b = b[:i]
	}
	if len(b) > maxBanner {
		b = b[:maxBanner]
	}
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		out[i] = c
	}
	return strings.TrimSpace(string(out))
}

// matchBanner names the service behind a server-first greeting. hint is the
// services-table name of the port, used only to choose between protocols
// that greet alike (FTP and SMTP both say "220"). It reports false when the
// greeting is not one it knows.
func matchBanner(b []byte, hint string) (ident, bool) {
	line := firstLine(b)
	switch {
	case bytes.HasPrefix(b, []byte("SSH-")):
		proto, software, _ := strings.Cut(strings.TrimPrefix(line, "SSH-"), "-")
		return ident{Service: "ssh", Banner: line, Detail: joinDetail("protocol "+proto, software)}, true
	case bytes.HasPrefix(b, []byte("220")) && (len(b) == 3 || b[3] == ' ' || b[3] == '-'):
		return ident{Service: ftpOrSMTP(line, hint), Banner: line}, true
	case bytes.HasPrefix(b, []byte("+OK")):
		return ident{Service: "pop3", Banner: line}, true
	case bytes.HasPrefix(b, []byte("* OK")) || bytes.HasPrefix(b, []byte("* PREAUTH")):
		return ident{Service: "imap", Banner: line}, true
	case bytes.HasPrefix(b, []byte("RFB ")) && len(b) >= 12:
		return ident{Service: "vnc", Banner: line, Detail: "protocol " + strings.TrimPrefix(line, "RFB ")}, true
	}
	if detail, ok := parseMySQL(b); ok {
		return ident{Service: "mysql", Banner: detail, Detail: detail}, true
	}
	return ident{}, false
}

// ftpOrSMTP tells an FTP "220" greeting from an SMTP one by its words, and
// failing that by the port's table name; "smtp" is the default.
func ftpOrSMTP(line, hint string) string {
	u := strings.ToUpper(line)
	switch {
	case strings.Contains(u, "FTP"):
		return "ftp"
	case strings.Contains(u, "SMTP") || strings.Contains(u, "MAIL") ||
		strings.Contains(u, "POSTFIX") || strings.Contains(u, "EXIM") || strings.Contains(u, "SENDMAIL"):
		return "smtp"
	case hint == "ftp" || hint == "ftps":
		return "ftp"
	}
	return "smtp"
}

// parseMySQL recognises the packet a MySQL or MariaDB server sends on
// connect: a 3-byte little-endian length, sequence number 0, then either a
// protocol-10 handshake with a NUL-terminated server version, or an error
// packet (0xff, 2-byte code, message) such as "Host ... is not allowed".
func parseMySQL(b []byte) (string, bool) {
	if len(b) < 7 {
		return "", false
	}
	n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	if b[3] != 0 || n < 3 || n > 4096 || n > len(b)-4 && len(b) < 1024 {
		return "", false
	}
	body := b[4:min(len(b), 4+n)]
	switch body[0] {
	case 10:
		end := bytes.IndexByte(body[1:], 0)
		if end <= 0 {
			return "", false
		}
		v := body[1 : 1+end]
		// After the version: connection id (4), auth data (8), a zero
		// filler byte, capability flags (2).
		rest := body[1+end+1:]
		if !printable(v) || len(rest) < 15 || rest[12] != 0 {
			return "", false
		}
		return "version " + string(v), true
	case 0xff:
		code := int(body[1]) | int(body[2])<<8
		msg := body[3:]
		if len(msg) > 0 && msg[0] == '#' && len(msg) >= 6 {
			msg = msg[6:] // "#HY000" SQL state marker
		}
		if code < 1000 || code > 5000 || !printable(msg) {
			return "", false
		}
		return "error " + strconv.Itoa(code) + ": " + firstLine(msg), true
	}
	return "", false
}

func printable(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// httpReply is the parsed head of an HTTP response.
type httpReply struct {
	Status string // "HTTP/1.1 200 OK"
	Code   int
	Server string
	// PlainToTLS is set when the reply says a plain-text request reached a
	// TLS port (Go's and nginx's 400 pages), so the port speaks TLS.
	PlainToTLS bool
}

// parseHTTP parses the status line and the Server header of an HTTP
// response head (which may be cut short).
func parseHTTP(b []byte) (httpReply, bool) {
	if !bytes.HasPrefix(b, []byte("HTTP/")) {
		return httpReply{}, false
	}
	lines := bytes.Split(b, []byte("\n"))
	status := strings.TrimSpace(string(lines[0]))
	f := strings.Fields(status)
	if len(f) < 2 || len(f[1]) != 3 {
		return httpReply{}, false
	}
	code, err := strconv.Atoi(f[1])
	if err != nil || code < 100 || code > 999 {
		return httpReply{}, false
	}
	r := httpReply{Status: firstLine([]byte(status)), Code: code}
	for _, l := range lines[1:] {
		l = bytes.TrimRight(l, "\r")
		if len(l) == 0 {
			break
		}
		name, value, ok := bytes.Cut(l, []byte(":"))
		if ok && strings.EqualFold(string(bytes.TrimSpace(name)), "server") {
			r.Server = firstLine(bytes.TrimSpace(value))
		}
	}
	if code == 400 {
		low := bytes.ToLower(b)
		r.PlainToTLS = bytes.Contains(low, []byte("http request to an https server")) ||
			bytes.Contains(low, []byte("plain http request was sent to https port"))
	}
	return r, true
}

// detail formats the reply for Port.Detail.
func (r httpReply) detail() string {
	if r.Server == "" {
		return r.Status
	}
	return r.Status + "; server " + r.Server
}

// parseRedis recognises Redis's answer to PING: "+PONG", or an error that
// only Redis gives (authentication required, protected mode).
func parseRedis(b []byte) (string, bool) {
	switch {
	case bytes.HasPrefix(b, []byte("+PONG")):
		return "PING answered", true
	case bytes.HasPrefix(b, []byte("-NOAUTH")), bytes.HasPrefix(b, []byte("-WRONGPASS")):
		return "authentication required", true
	case bytes.HasPrefix(b, []byte("-DENIED")):
		return "protected mode: " + firstLine(b[1:]), true
	}
	return "", false
}

// parsePostgres recognises PostgreSQL's one-byte answer to an SSLRequest:
// 'S' (will speak TLS) or 'N' (will not).
func parsePostgres(b []byte) (string, bool) {
	if len(b) != 1 {
		return "", false
	}
	switch b[0] {
	case 'S':
		return "SSL supported", true
	case 'N':
		return "SSL not supported", true
	}
	return "", false
}
