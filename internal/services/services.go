// Package services maps (protocol, port) to IANA service names.
//
// The table is compiled into the binary (table.go is generated from the copy
// of Debian netbase's /etc/services in netbase-services.txt), so the
// service-port rule gives the same answer on every machine. Users can add or
// rename entries with a services(5)-format file of their own (WithOverrides).
package services

//go:generate go run ./gen -in netbase-services.txt -out table.go

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/porttop/porttop/internal/key"
)

// Entry is one service: a name for a port and protocol.
type Entry struct {
	Port  uint16
	Proto key.Proto
	Name  string
}

// Table answers service-name lookups. The zero value is empty; Builtin
// returns the compiled-in table. A Table is immutable and safe for
// concurrent use.
type Table struct {
	// names[proto][port] is the service name, "" if none.
	names [2]map[uint16]string
	// known is a bitmap of named ports per protocol, for allocation-free
	// checks on the per-packet path.
	known [2][65536 / 64]uint64
}

// Builtin returns a new table holding the compiled-in services list.
func Builtin() *Table {
	return build(builtin)
}

func build(entries []Entry) *Table {
	t := &Table{}
	for p := range t.names {
		t.names[p] = make(map[uint16]string)
	}
	for _, e := range entries {
		t.set(e)
	}
	return t
}

func (t *Table) set(e Entry) {
	p := e.Proto & 1
	if e.Name == "" {
		delete(t.names[p], e.Port)
		t.known[p][e.Port/64] &^= 1 << (e.Port % 64)
		return
	}
	t.names[p][e.Port] = e.Name
	t.known[p][e.Port/64] |= 1 << (e.Port % 64)
}

// Name returns the service name of port/proto, or "".
func (t *Table) Name(p key.Proto, port uint16) string {
	if t == nil || t.names[p&1] == nil {
		return ""
	}
	return t.names[p&1][port]
}

// Known reports whether port/proto has a service name. It does not
// allocate and is safe on the per-packet path.
func (t *Table) Known(p key.Proto, port uint16) bool {
	if t == nil {
		return false
	}
	return t.known[p&1][port/64]&(1<<(port%64)) != 0
}

// Entries returns every entry, sorted by port then protocol.
func (t *Table) Entries() []Entry {
	var out []Entry
	for p, m := range t.names {
		for port, name := range m {
			out = append(out, Entry{Port: port, Proto: key.Proto(p), Name: name})
		}
	}
	sortEntries(out)
	return out
}

// WithOverrides returns a copy of t where the given entries are added or
// replace existing names (an entry with an empty Name removes the port).
func (t *Table) WithOverrides(over []Entry) *Table {
	return build(append(t.Entries(), over...))
}

func sortEntries(es []Entry) {
	sort.Slice(es, func(i, j int) bool {
		if es[i].Port != es[j].Port {
			return es[i].Port < es[j].Port
		}
		return es[i].Proto < es[j].Proto
	})
}

// Parse reads a services(5) file: "name port/proto [aliases...] [# comment]".
// Protocols other than tcp and udp are skipped. When a port/proto appears
// twice, the first name wins, as in getservbyport. Entries come back sorted
// by port then protocol.
func Parse(r io.Reader) ([]Entry, error) {
	seen := make(map[[2]uint32]bool)
	var out []Entry
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 2 {
			return nil, fmt.Errorf("line %d: want \"name port/proto\", got %q", line, strings.TrimSpace(text))
		}
		portStr, protoStr, ok := strings.Cut(fields[1], "/")
		if !ok {
			return nil, fmt.Errorf("line %d: want port/proto, got %q", line, fields[1])
		}
		port, err := strconv.ParseUint(portStr, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("line %d: bad port %q", line, portStr)
		}
		proto, err := key.ParseProto(protoStr)
		if err != nil {
			continue // sctp, ddp, ...: not counted per port
		}
		k := [2]uint32{uint32(port), uint32(proto)}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, Entry{Port: uint16(port), Proto: proto, Name: fields[0]})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	sortEntries(out)
	return out, nil
}

// builtinTable is built once, on first use, and never modified.
var builtinTable = sync.OnceValue(Builtin)

// Name returns the built-in service name of port/proto, or "".
func Name(p key.Proto, port uint16) string {
	return builtinTable().Name(p, port)
}
