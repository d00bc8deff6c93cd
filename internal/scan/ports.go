package scan

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// top1000 is the list of the 1,000 most common TCP ports; see the header of
// top1000.txt for where it comes from.
//
//go:embed top1000.txt
var top1000 string

// topPorts parses top1000 once; the slice is never modified afterwards.
var topPorts = sync.OnceValue(func() []uint16 {
	ps, err := parsePortLines(strings.NewReader(top1000))
	if err != nil {
		// The file is compiled in and checked by TestTopPorts.
		panic("scan: bad embedded top1000.txt: " + err.Error())
	}
	return ps
})

// TopPorts returns the 1,000 most common TCP ports, most common first
// (the same set nmap scans by default, in its frequency order).
func TopPorts() []uint16 {
	return slices.Clone(topPorts())
}

// parsePortLines reads one port per line; blank lines and lines starting
// with '#' are skipped.
func parsePortLines(r io.Reader) ([]uint16, error) {
	var out []uint16
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		n, err := strconv.ParseUint(t, 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("line %d: %q is not a port 1-65535", line, t)
		}
		out = append(out, uint16(n))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
