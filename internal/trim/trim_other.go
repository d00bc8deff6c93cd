//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package trim

// GopacketTables does nothing where porttop cannot release pages; it
// returns 0.
func GopacketTables() (released int) { return 0 }
