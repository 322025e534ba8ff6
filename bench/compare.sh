#!/bin/sh
# Side-by-side comparison of the Rust client and a JavaScript rendering of
# the browser client (bench/js/compare.mjs), in one run on one machine:
# page decode, enc:1: encrypt+decrypt (WebCrypto and node:crypto), pull-all
# from the same loopback server (and the library against a bare request
# loop of the same bytes), fold (time here; memory by the fold_memory
# bench: a counting allocator, a process of its own), and the pull of 10k,
# 100k and 1M changes, pull_all and pull_into (time and memory by the
# pull_memory bench, the same way). Prints
# each pair and the ratio, and one `RESULT {json}` line per step.
#
# Needs: cargo (the workspace's toolchain) and Node >= 20 (no npm packages).
# Usage: bench/compare.sh          # full run (100k-change pull, 1M fold, pulls up to 1M)
#        MANA_BENCH_QUICK=1 bench/compare.sh   # a short run (pulls up to 100k)
# Not part of `cargo test`.
set -eu
cd "$(dirname "$0")/.."

NODE=${NODE:-node}
if ! command -v "$NODE" >/dev/null 2>&1; then
    echo "compare.sh: Node.js (>= 20) is needed for the JavaScript side; set NODE= or install it" >&2
    exit 1
fi
major=$("$NODE" -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
    echo "compare.sh: Node $("$NODE" --version) is too old; the JavaScript side needs >= 20 (fetch, webcrypto)" >&2
    exit 1
fi
export NODE

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "rustc: $(rustc --version), node: $("$NODE" --version)"
# The fold's and the pull's memory are measured by binaries of their own (a
# counting allocator, a fresh process per size): built first, run by
# `compare`.
built=$(cargo bench -p mana-sync-testkit --bench fold_memory --bench pull_memory --no-run 2>&1 || true)
for name in fold_memory pull_memory; do
    bin=$(printf '%s\n' "$built" |
        sed -n "s/.*Executable benches\/$name.rs (\(.*\)).*/\1/p" | tail -n 1)
    if [ -n "$bin" ]; then
        case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
        case $name in
            fold_memory) MANA_FOLD_MEMORY_BIN=$bin; export MANA_FOLD_MEMORY_BIN ;;
            pull_memory) MANA_PULL_MEMORY_BIN=$bin; export MANA_PULL_MEMORY_BIN ;;
        esac
    fi
done
# A release build of the bench binary (criterion's bench profile); the
# binary runs the Rust steps, then the Node side against the same inputs.
exec cargo bench -p mana-sync-testkit --bench compare
