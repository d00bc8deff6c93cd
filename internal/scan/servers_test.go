package scan

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// The fake services below listen on 127.0.0.1 (or ::1) with a port the
// kernel picks, and stop when the test ends. Each handles one connection
// at a time per goroutine and every read has a deadline, so none can hang
// a test.

// serve accepts connections on ln until the test ends and runs handle on
// each (with a 5s deadline on the connection).
func serve(t *testing.T, ln net.Listener, handle func(net.Conn)) uint16 {
	t.Helper()
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				handle(c)
			})
		}
	})
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

func listenTCP(t *testing.T, network, address string) net.Listener {
	t.Helper()
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Fatalf("listen %s: %v", address, err)
	}
	return ln
}

// greeter is a server-first service: it says greeting and then reads
// until the client goes.
func greeter(t *testing.T, greeting []byte) uint16 {
	return serve(t, listenTCP(t, "tcp4", "127.0.0.1:0"), func(c net.Conn) {
		_, _ = c.Write(greeting)
		_, _ = io.Copy(io.Discard, c)
	})
}

// silent accepts and says nothing.
func silent(t *testing.T) uint16 {
	return serve(t, listenTCP(t, "tcp4", "127.0.0.1:0"), func(c net.Conn) {
		_, _ = io.Copy(io.Discard, c)
	})
}

// responder reads one message and answers with reply(message); a nil
// reply closes the connection.
func responder(t *testing.T, reply func([]byte) []byte) uint16 {
	return serve(t, listenTCP(t, "tcp4", "127.0.0.1:0"), func(c net.Conn) {
		buf := make([]byte, 2048)
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		if r := reply(buf[:n]); r != nil {
			_, _ = c.Write(r)
			_, _ = io.Copy(io.Discard, c)
		}
	})
}

// redisLike answers PING with +PONG and anything else with an error, as
// Redis does.
func redisLike(t *testing.T, pong string) uint16 {
	return responder(t, func(q []byte) []byte {
		if bytes.Contains(q, []byte("PING")) {
			return []byte(pong)
		}
		return []byte("-ERR unknown command\r\n")
	})
}

// postgresLike answers an SSLRequest with 'N' and closes on anything else,
// as PostgreSQL does with a startup packet it cannot read.
func postgresLike(t *testing.T) uint16 {
	return responder(t, func(q []byte) []byte {
		if bytes.Equal(q, pgSSLRequest) {
			return []byte("N")
		}
		return nil
	})
}

// closedPort returns a port on 127.0.0.1 that nothing listens on.
func closedPort(t *testing.T) uint16 {
	t.Helper()
	ln := listenTCP(t, "tcp4", "127.0.0.1:0")
	p := uint16(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	return p
}

// httpServer serves HTTP with a Server header on l (plain or TLS).
func httpServer(t *testing.T, ln net.Listener) uint16 {
	t.Helper()
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Server", "porttop-test/1.0")
			w.WriteHeader(http.StatusNoContent)
		}),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	})
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

// selfSigned makes a throw-away ECDSA certificate for CN porttop-test.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "porttop-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
}

func tlsListener(t *testing.T, cert tls.Certificate, maxVersion uint16) net.Listener {
	return tls.NewListener(listenTCP(t, "tcp4", "127.0.0.1:0"), &tls.Config{
		Certificates: []tls.Certificate{cert},
		MaxVersion:   maxVersion,
	})
}

// tlsGreeter speaks TLS and, after the handshake, greets like IMAP.
func tlsGreeter(t *testing.T, cert tls.Certificate, greeting string) uint16 {
	return serve(t, tlsListener(t, cert, 0), func(c net.Conn) {
		if err := c.(*tls.Conn).Handshake(); err != nil {
			return
		}
		_, _ = c.Write([]byte(greeting))
		_, _ = io.Copy(io.Discard, c)
	})
}

// tlsSilent speaks TLS and says nothing after the handshake.
func tlsSilent(t *testing.T, cert tls.Certificate) uint16 {
	return serve(t, tlsListener(t, cert, tls.VersionTLS12), func(c net.Conn) {
		if err := c.(*tls.Conn).Handshake(); err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, c)
	})
}

// mysqlHandshake is the first packet of a MySQL 8 server (trimmed).
func mysqlHandshake(version string) []byte {
	body := []byte{10}
	body = append(body, version...)
	body = append(body, 0)
	body = binary.LittleEndian.AppendUint32(body, 42) // connection id
	body = append(body, "abcdefgh"...)                // auth data part 1
	body = append(body, 0, 0xff, 0xf7, 0x21, 0x02, 0, 0xff, 0xc1, 21)
	body = append(body, make([]byte, 10)...)
	body = append(body, "ijklmnopqrst"...)
	body = append(body, 0)
	body = append(body, "caching_sha2_password"...)
	body = append(body, 0)
	hdr := []byte{byte(len(body)), byte(len(body) >> 8), byte(len(body) >> 16), 0}
	return append(hdr, body...)
}

// udpServer answers datagrams on 127.0.0.1 with reply(datagram); a nil
// reply answers nothing.
func udpServer(t *testing.T, reply func([]byte) []byte) uint16 {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		pc.Close()
		wg.Wait()
	})
	wg.Go(func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			if r := reply(buf[:n]); r != nil {
				_, _ = pc.WriteTo(r, from)
			}
		}
	})
	return uint16(pc.LocalAddr().(*net.UDPAddr).Port)
}

// dnsAnswer answers a version.bind CH TXT query with version; it ignores
// anything that is not a DNS query.
func dnsAnswer(version string) func([]byte) []byte {
	return func(q []byte) []byte {
		if len(q) < 12 || q[2]&0x80 != 0 {
			return nil
		}
		end := skipDNSName(q, 12)
		if end < 0 || end+4 > len(q) {
			return nil
		}
		r := append([]byte(nil), q[:end+4]...)
		r[2] = 0x84 // QR, AA
		r[3] = 0
		binary.BigEndian.PutUint16(r[6:], 1) // ANCOUNT
		r = append(r, 0xc0, 12)              // name: pointer to the question
		r = binary.BigEndian.AppendUint16(r, dnsTypeTXT)
		r = binary.BigEndian.AppendUint16(r, dnsClassCH)
		r = binary.BigEndian.AppendUint32(r, 0)
		r = binary.BigEndian.AppendUint16(r, uint16(1+len(version)))
		r = append(r, byte(len(version)))
		return append(r, version...)
	}
}

// ntpAnswer answers an NTP client request like a stratum-2 server; it
// ignores anything else.
func ntpAnswer(q []byte) []byte {
	if len(q) != 48 || q[0]&7 != 3 {
		return nil
	}
	r := make([]byte, 48)
	r[0] = 4<<3 | 4
	r[1] = 2
	copy(r[12:16], []byte{192, 0, 2, 1})
	copy(r[24:32], q[40:48])
	return r
}

// mysqlError is the error packet a MySQL server sends instead of a
// handshake when it refuses a client.
func mysqlError(code uint16, msg string) []byte {
	body := []byte{0xff, byte(code), byte(code >> 8)}
	body = append(body, msg...)
	return append([]byte{byte(len(body)), 0, 0, 0}, body...)
}
