#!/bin/sh
# bench_nmap.sh: time a full-range TCP connect scan of 127.0.0.1 with
# porttop against nmap, and check both find the same open ports.
#
#   internal/scan/bench_nmap.sh [RUNS]     (from the repository root)
#
# Runs each scanner RUNS times (default 5), alternating, and prints the
# median wall time of each and the ratio. nmap runs with -n so that it does
# no reverse DNS lookups (no traffic leaves the host); only 127.0.0.1 is
# ever scanned. Needs nmap (apt-get install nmap); without it, only porttop
# is timed. Exit status 1 if the two disagree on the open ports.
set -eu

runs=${1:-5}
case $runs in '' | *[!0-9]* | 0) echo "bench_nmap.sh: RUNS must be a positive number" >&2; exit 2 ;; esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/porttop" ./cmd/porttop

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR] = $1} END {m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.2f", m}'; }

have_nmap=1
command -v nmap >/dev/null 2>&1 || have_nmap=0

i=0
while [ "$i" -lt "$runs" ]; do
	i=$((i + 1))
	s=$(now)
	"$tmp/porttop" scan 127.0.0.1 -p 1-65535 -o json >"$tmp/porttop.json"
	e=$(now)
	echo "$s $e" | awk '{print $2 - $1}' >>"$tmp/porttop.times"
	if [ "$have_nmap" = 1 ]; then
		s=$(now)
		nmap -sT -p- -n -oG "$tmp/nmap.gnmap" 127.0.0.1 >/dev/null
		e=$(now)
		echo "$s $e" | awk '{print $2 - $1}' >>"$tmp/nmap.times"
	fi
done

p=$(median <"$tmp/porttop.times")
echo "porttop scan 127.0.0.1 -p 1-65535 -o json: median ${p}s over $runs runs"
[ "$have_nmap" = 1 ] || { echo "nmap not installed: no comparison"; exit 0; }
n=$(median <"$tmp/nmap.times")
echo "nmap -sT -p- -n 127.0.0.1:                 median ${n}s over $runs runs"
echo "$n $p" | awk '{printf "nmap/porttop time ratio: %.2fx (above 1: porttop is faster)\n", $1 / $2}'

# Open ports seen by each (from the last run of each).
grep -o '"port":[0-9]*,"proto":"tcp","state":"open"' "$tmp/porttop.json" | tr -dc '0-9\n' | sort -n >"$tmp/porttop.open"
grep -o '[0-9]*/open/tcp' "$tmp/nmap.gnmap" | cut -d/ -f1 | sort -n >"$tmp/nmap.open"
if cmp -s "$tmp/porttop.open" "$tmp/nmap.open"; then
	echo "open ports agree: $(tr '\n' ' ' <"$tmp/porttop.open")"
else
	echo "open ports differ: porttop [$(tr '\n' ' ' <"$tmp/porttop.open")] nmap [$(tr '\n' ' ' <"$tmp/nmap.open")]" >&2
	exit 1
fi
