#!/usr/bin/env bash
# make bench: seeds estates of 100k and 1M endpoints with `patchready seed`,
# serves each, and measures it: wrk for the floor, throughput, overview,
# API, CSV and ingest; bench/sweep for the Servers list and its facets over
# 200 random combinations of every parameter drawn from a seed (a fixed list
# of URLs would invite tuning to it). Prints the tables and writes them to
# bench/results.md. Then runs the Go benchmarks.
# Sizes and durations can be changed: BENCH_SIZES="100000" BENCH_SECONDS=3
# BENCH_SWEEP=200 BENCH_REQS=50 BENCH_SEED=1.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=${BENCH_SIZES:-"100000 1000000"}
secs=${BENCH_SECONDS:-5}
port=18181
floor_port=18182
bin=./bin/patchready
data=bench/data
mkdir -p "$data"

if ! command -v wrk >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
fi
go build -o "$data/floor" bench/floor.go
go build -o "$data/sweep" ./bench/sweep
sweep_n=${BENCH_SWEEP:-200}
sweep_reqs=${BENCH_REQS:-50}
sweep_seed=${BENCH_SEED:-1}
sweeps=$(mktemp)

pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# wrk_row NAME CONNECTIONS URL [extra wrk args]: one line of the table.
wrk_row() {
	local name=$1 conns=$2 url=$3
	shift 3
	local threads=$((conns < 2 ? 1 : 2))
	local out
	out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" --latency "$@" "$url")
	local p50 p99 rps errors
	p50=$(awk '/^ +50%/ {print $2}' <<<"$out")
	p99=$(awk '/^ +99%/ {print $2}' <<<"$out")
	rps=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
	errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
	printf '| %s | %s | %d | %s | %s | %s |%s\n' "$size_label" "$name" "$conns" "$p50" "$p99" "$rps" "${errors:+ $errors non-2xx}"
}

results=$(mktemp)
{
	echo "| estate | request | conns | p50 | p99 | req/s |"
	echo "| --- | --- | ---: | ---: | ---: | ---: |"
} >"$results"
notes=()

for n in $sizes; do
	size_label=$(numfmt --to=si "$n")
	db="$data/bench-$n.db"
	rm -f "$db" "$db-wal" "$db-shm"
	$bin migrate --db "$db" >/dev/null
	start=$(date +%s.%N)
	$bin seed --endpoints "$n" --db "$db" >/dev/null
	seed_s=$(echo "$(date +%s.%N) - $start" | bc)
	echo "bench-password-1" | $bin user add bench --role admin --db "$db" >/dev/null
	token=$($bin token create bench --db "$db")

	PATCHREADY_SESSION_KEY=bench $bin serve --db "$db" --addr "127.0.0.1:$port" --no-demo >"$data/serve-$n.log" 2>&1 &
	server=$!
	pids+=("$server")
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
	# The read model is built in the background; wait for it.
	for _ in $(seq 600); do grep -q "read model built" "$data/serve-$n.log" && break; sleep 0.1; done
	build_s=$(sed -n 's/.*read model built" seconds=\([0-9.]*\).*/\1/p' "$data/serve-$n.log" | head -1)
	built_rss=$(awk '/VmRSS/ {printf "%.0f MiB", $2/1024}' "/proc/$server/status")

	jar=$(mktemp)
	csrf=$(curl -s -c "$jar" "http://127.0.0.1:$port/login" | grep -o 'name="_csrf" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"$//')
	curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "_csrf=$csrf" -d "username=bench&password=bench-password-1" "http://127.0.0.1:$port/login"
	cookie="Cookie: patchready=$(awk '$6 == "patchready" {print $7}' "$jar")"

	base="http://127.0.0.1:$port"
	# The same bytes as the unfiltered Servers page, from memory: the floor.
	curl -s -H "$cookie" "$base/servers" >"$data/page.html"
	"$data/floor" "$data/page.html" "127.0.0.1:$floor_port" &
	pids+=("$!")
	sleep 0.5

	# A filter of about 10k rows for the CSV export.
	csv_filter="" best=0
	for f in "exemption=powered-off" "warning=low-disk-space" "impact=cannot-patch&os=windows" "exemption=connector-not-installed" "exemption=pending-reboot-suspension" "os=windows&protocol=web&impact=temporarily-cannot-patch"; do
		total=$(curl -s -H "Authorization: Bearer $token" "$base/api/v1/endpoints?per_page=1&$f" | sed 's/.*"total":\([0-9]*\).*/\1/')
		if [ "$csv_filter" = "" ] || [ $(( (total - 10000) * (total - 10000) )) -lt $(( (best - 10000) * (best - 10000) )) ]; then csv_filter=$f best=$total; fi
	done

	{
		for c in 1 8; do wrk_row "/healthz" "$c" "$base/healthz"; done
		for c in 1 8; do wrk_row "floor: same bytes from memory" "$c" "http://127.0.0.1:$floor_port/"; done
		for c in 1 8; do wrk_row "/servers" "$c" "$base/servers" -H "$cookie"; done
		for c in 1 8; do wrk_row "/ (overview)" "$c" "$base/" -H "$cookie"; done
		for c in 1 8; do wrk_row "/api/v1/endpoints?per_page=50" "$c" "$base/api/v1/endpoints?per_page=50" -H "Authorization: Bearer $token"; done
		wrk_row "/servers.csv?$csv_filter ($best rows)" 1 "$base/servers.csv?$csv_filter" -H "$cookie"
		BENCH_TOKEN=$token wrk_row "PUT 1000 endpoints (ingest)" 1 "$base/api/v1/endpoints" -s bench/ingest.lua
	} | tee -a "$results"

	# The Servers list over random combinations of its parameters.
	"$data/sweep" -base "$base" -cookie "${cookie#Cookie: }" -token "$token" -n "$sweep_n" -reqs "$sweep_reqs" \
		-seed "$sweep_seed" -label "$size_label" | tee -a "$sweeps" || true
	echo >>"$sweeps"

	rss=$(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' "/proc/$server/status")
	dbsize=$(du -m "$db" | cut -f1)
	notes+=("- $size_label endpoints: seeded in ${seed_s%.*} s; read model built in ${build_s:-?} s; server RSS $built_rss once built, peak $rss (after every request above); database $dbsize MiB.")
	kill "$server" "${pids[-1]}" 2>/dev/null || true
	wait "$server" 2>/dev/null || true
	rm -f "$jar"
done

# The hand-written "## Targets" section (what each number means against
# the targets) is kept across runs.
analysis=$(sed -n '/^## Targets/,$p' bench/results.md 2>/dev/null || true)
{
	echo "# patchready benchmark"
	echo
	echo "$(date -u +%Y-%m-%d) on $(nproc) cores ($(uname -m)), ${secs}s per wrk run, loopback. p50/p99 as wrk reports them; ingest req/s × 1000 = endpoints/s."
	echo
	cat "$results"
	echo
	printf '%s\n' "${notes[@]}"
	echo
	echo "## The Servers list over random parameters (bench/sweep, seed $sweep_seed)"
	echo
	cat "$sweeps"
	if [ -n "$analysis" ]; then
		echo
		echo "$analysis"
	fi
} >bench/results.md
echo
cat bench/results.md

echo
echo "Go benchmarks (rules, seeding, page handler at 100k):"
go test -run '^$' -bench . ./store ./views ./web 2>&1 | grep -E '^(Benchmark|ok|FAIL)'
