#!/bin/sh
# Instructions per call of one estimator, counted by callgrind: the
# function's inclusive instructions over its calls from a Google Benchmark
# loop (every calibration run included), so the figure is independent of the
# machine's load and of how many iterations the benchmark picks.
#
#   bench/estimate_instructions.sh [BUILD_DIR [BENCHMARK [FUNCTION]]]
#
# Defaults: build/ci, BM_TrainEstimateGpt3 (GPT-3 175B on 1,024 A100, TP 8
# PP 8 VP 3, selective recompute, SP) and suanli::EstimateTraining. For one
# inference estimate: bench/estimate_instructions.sh build/ci BM_InferOne
# suanli::EstimateInference. Needs valgrind and python3; the ci preset's
# RelWithDebInfo build is the one the commit messages quote.
set -eu
build=${1:-build/ci}
bench=${2:-BM_TrainEstimateGpt3}
func=${3:-suanli::EstimateTraining}
bin=$build/bench/suanli_bench
[ -x "$bin" ] || { echo "estimate_instructions: no $bin (cmake --build --preset ci --target suanli_bench)" >&2; exit 2; }
out=$(mktemp "${TMPDIR:-/tmp}/estimate_instructions.XXXXXX")
trap 'rm -f "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" --benchmark_filter="^$bench\$" \
  --benchmark_min_time=0.05 >/dev/null 2>&1
python3 - "$out" "$func" "$bench" <<'EOF'
import re, sys

path, func, bench = sys.argv[1], sys.argv[2], sys.argv[3]
# callgrind's format compresses names: "(id) name" the first time, "(id)" after.
names, target = {}, None
calls = inclusive = 0
pending = None  # calls of the current cfn= line, waiting for its cost line
callee = None
with open(path) as f:
    for line in f:
        if line.startswith(("fn=", "cfn=")):
            m = re.match(r"c?fn=\((\d+)\)(?: (.*))?", line.rstrip("\n"))
            if m.group(2) is not None:
                names[m.group(1)] = m.group(2)
            name = names.get(m.group(1), "")
            is_target = name.startswith(func + "(")
            if line.startswith("cfn="):
                callee = is_target
        elif line.startswith("calls=") and callee:
            pending = int(line.split("=")[1].split()[0])
        elif pending is not None:
            inclusive += int(line.split()[1])
            calls += pending
            pending = None
            callee = False
if calls == 0:
    sys.exit(f"estimate_instructions: no call of {func} in {bench}")
print(f"{bench}: {func} {inclusive:,} instructions over {calls:,} calls = {inclusive / calls:,.0f} per call")
EOF
