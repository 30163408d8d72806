#!/usr/bin/env bash
# A fresh machine, measured: a clean clone of this repository's HEAD, an empty npm cache and an empty
# gridflow download cache, then the README's demo command exactly as written (`npm ci && npm run demo`),
# timed to the demo's end (the SGCC pipeline deployed by its workflow, data flowing, results shown).
# Host packages (Java, Maven, PostgreSQL, Chromium…) are taken as installed: scripts/setup.sh reports
# them present. Runs on its own ports (GRIDFLOW_PORT_OFFSET, default +40000) and folders under /tmp, so a
# running stack is not touched; each run's stack is stopped and purged afterwards.
#
#   bench/fresh-machine.sh [runs=3] [port-offset=40000]
#
# Prints one line per run (seconds to the demo's end, and to each phase by the demo's own timestamps),
# then the median. Results go to docs/BENCHMARKS.md by hand, with the machine and the date.
set -euo pipefail
runs="${1:-3}"
offset="${2:-40000}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="$repo/bench/tmp/fresh-machine-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
totals=()
for i in $(seq 1 "$runs"); do
  dir="$(mktemp -d /tmp/gf-fresh-XXXXXX)"
  chmod 755 "$dir" # the stack runs its components as an unprivileged user (src/stack/privilege.ts)
  git clone -q "$repo" "$dir/gridflow"
  export GRIDFLOW_CACHE="$dir/cache" npm_config_cache="$dir/npm-cache" GRIDFLOW_PORT_OFFSET="$offset"
  unset GRIDFLOW_HOME
  log="$out/run-$i.log"
  start=$(date +%s.%N)
  # Each line of output with the seconds since the start, so the phases can be read afterwards.
  ( cd "$dir/gridflow" && npm ci --no-audit --no-fund && npm run demo ) 2>&1 | while IFS= read -r line; do
    printf '%7.1f %s\n' "$(echo "$(date +%s.%N) - $start" | bc)" "$line"
  done > "$log"
  status=${PIPESTATUS[0]}
  total=$(echo "$(date +%s.%N) - $start" | bc)
  phase() { grep -m1 -E "$1" "$log" | awk '{print $1}'; }
  printf 'run %d: %s s to the demo'"'"'s end (exit %s); npm ci done %s s, Temporal CLI %s s, stack up %s s, RUNNING %s s\n' \
    "$i" "$(printf '%.1f' "$total")" "$status" "$(phase 'added [0-9]+ packages')" "$(phase 'temporal.*(wheel|binary|go install)')" \
    "$(phase 'stack (is )?up')" "$(phase 'RUNNING')" | tee -a "$out/summary.txt"
  totals+=("$total")
  ( cd "$dir/gridflow" && bin/gridflow dashboard stop >/dev/null 2>&1; bin/gridflow worker stop >/dev/null 2>&1; bin/gridflow stack down --purge >/dev/null 2>&1 ) || true
  rm -rf "$dir"
  [ "$status" -eq 0 ] || { echo "run $i failed: see $log"; exit 1; }
done
median=$(printf '%s\n' "${totals[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
printf 'median of %d: %.1f s (logs in %s)\n' "$runs" "$median" "$out" | tee -a "$out/summary.txt"
