#!/bin/sh
# The JIT against native code and QEMU's translator, side by side in one run.
# Writes the table and the JSON under Benchmarks/results/, named by date and commit.
set -eu
cd "$(dirname "$0")/.."
command -v qemu-riscv32 >/dev/null || echo "note: qemu-riscv32 not found; the QEMU columns will be left out (Debian: apt-get install qemu-user)" >&2
mkdir -p Benchmarks/results
stamp="$(date -u +%Y%m%d-%H%M%S)-$(git rev-parse --short HEAD 2>/dev/null || echo nogit)"
swift build -c release --product bench
.build/release/bench peer --repeat "${REPEAT:-9}" | tee "Benchmarks/results/peer-$stamp.txt"
.build/release/bench peer --repeat "${REPEAT:-9}" --json > "Benchmarks/results/peer-$stamp.json"
echo "wrote Benchmarks/results/peer-$stamp.txt and .json"
