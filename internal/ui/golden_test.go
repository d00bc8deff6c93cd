package ui

import (
	"flag"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
	"github.com/porttop/porttop/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden screens in testdata/")

// checkGolden compares a screen with testdata/name, trailing blanks
// trimmed; -update rewrites the file.
func checkGolden(t *testing.T, name, screen string) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	golden.Check(t, name, []byte(strings.Join(lines, "\n")+"\n"), *update)
}

func TestGoldenScreens(t *testing.T) {
	for _, c := range []struct {
		name string
		w, h int
		keys func(*testScreen)
		wait []string
	}{
		{"table_80x24.golden", 80, 24, nil, []string{"6 ports"}},
		{"table_200x50.golden", 200, 50, nil, []string{"6 ports"}},
		{"detail_200x50.golden", 200, 50, func(s *testScreen) { s.runes("jj"); s.key(tcell.KeyEnter) }, []string{"CONNECTIONS (2)"}},
		{"help_80x24.golden", 80, 24, func(s *testScreen) { s.runes("?") }, []string{"How bytes are counted"}},
		{"ifaces_120x40.golden", 120, 40, func(s *testScreen) { s.runes("n") }, []string{"INTERFACES", "lo rx"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := start(t, c.w, c.h, newFakeFeed(fixture()), nil)
			r.waitOrder("443/tcp", "80/tcp", "22/tcp", "53/udp", "8080/tcp", "9000/udp")
			if c.keys != nil {
				c.keys(r.scr)
			}
			checkGolden(t, c.name, r.waitText(c.wait...))
		})
	}
}
