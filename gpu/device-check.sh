#!/usr/bin/env bash
# The one-shot GPU check: the CUDA tests and the CUDA ranking benchmark beside PyTorch matmul + topk on the same data,
# on a lent NVIDIA machine that may have no JDK and no Maven. Two steps:
#
#   gpu/device-check.sh prepare        # here, with Maven: builds .device/ (git-ignored, < 64 MiB): a jlink'ed Java
#                                      # runtime, the gpu module's classes, test classes and jars, the JUnit console
#   gpu/device-check.sh run [OUTDIR]   # there (the device tool, carry [".device"]): writes OUTDIR/*.md and logs
#
# On the device tool:  run(command='bash gpu/device-check.sh run "$OUT"', carry=['.device'], timeout_s=540)
# `run` stays under 8 minutes: each stage has its own timeout, and a failed stage is reported, not fatal.
set -uo pipefail
cd "$(dirname "$0")/.."
DEV=.device
MODULES=java.base,java.logging,java.management,java.xml,jdk.unsupported,jdk.incubator.vector
JUNIT_CONSOLE=org.junit.platform:junit-platform-console-standalone:1.12.2

prepare() {
  set -e
  local jdk="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}"
  rm -rf "$DEV"
  mkdir -p "$DEV/lib"
  mvn -q -B -pl gpu -am -DskipTests package \
    dependency:build-classpath -Dmdep.outputFile=target/device-classpath.txt -Dmdep.includeScope=test
  # The gpu module's runtime and test jars (the bench module depends on the server; the check needs only gpu).
  tr ':' '\n' < gpu/target/device-classpath.txt | while read -r jar; do
    [[ -n "$jar" ]] && cp "$jar" "$DEV/lib/"
  done
  # The JUnit console brings JUnit itself; byte-buddy serves only AssertJ's soft assertions, which these tests don't use.
  rm -f "$DEV"/lib/junit-*.jar "$DEV"/lib/opentest4j-*.jar "$DEV"/lib/apiguardian-*.jar "$DEV"/lib/byte-buddy-*.jar
  mvn -q -B dependency:copy -Dartifact="$JUNIT_CONSOLE" -DoutputDirectory="$DEV/junit"
  cp -r gpu/target/classes "$DEV/gpu-classes"
  cp -r gpu/target/test-classes "$DEV/gpu-test-classes"
  "$jdk/bin/javac" --release 17 --add-modules jdk.incubator.vector -nowarn \
    -d "$DEV/bench-classes" -cp "gpu/target/classes:$(cat gpu/target/device-classpath.txt)" \
    bench/src/main/java/io/wxmp/bench/ranking/*.java 2>&1 | grep -v 'incubator\|^1 warning' || true
  cp bench/ranking-logback.xml "$DEV/"
  "$jdk/bin/jlink" --add-modules "$MODULES" --strip-debug --no-man-pages --no-header-files --compress=2 \
    --output "$DEV/jre" 2>&1 | grep -v 'incubator' || true
  strip --strip-unneeded "$DEV/jre/lib/server/libjvm.so"   # native symbols: 24 MB -> 20 MB
  local mib
  mib=$(du -sm "$DEV" | cut -f1)
  echo "prepared $DEV: ${mib} MiB (the device tool carries at most 64 MiB)"
  if (( mib > 63 )); then
    echo "too big for the device tool" >&2
    exit 1
  fi
}

stage() { # name timeout_s command...: runs one stage, logs it, records its outcome
  local name="$1" limit="$2"
  shift 2
  echo "== $name (limit ${limit}s)"
  local start=$SECONDS
  timeout --kill-after=10 "$limit" "$@" > "$OUTDIR/$name.log" 2>&1
  local rc=$?
  echo "| $name | $rc | $((SECONDS - start)) s |" >> "$OUTDIR/stages.md"
  tail -n 40 "$OUTDIR/$name.log"
  return $rc
}

run() {
  OUTDIR="${1:-device-check-out}"
  mkdir -p "$OUTDIR"
  local java="$DEV/jre/bin/java"
  [[ -x "$java" ]] || java="$(command -v java || true)"
  if [[ -z "$java" ]]; then
    echo "no Java runtime: run 'gpu/device-check.sh prepare' first and carry .device" >&2
    exit 2
  fi
  local cp="$DEV/gpu-classes:$DEV/gpu-test-classes:$DEV/bench-classes:$(ls "$DEV"/lib/*.jar | tr '\n' ':')"
  printf '| stage | exit | time |\n|---|---:|---:|\n' > "$OUTDIR/stages.md"
  {
    echo "date: $(date -u +%FT%TZ)"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv 2>&1
    nvcc --version 2>&1 | tail -n 2
    "$java" -version 2>&1
    python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1
  } > "$OUTDIR/device.txt"
  cat "$OUTDIR/device.txt"

  # The committed PTX against this machine's nvcc, and what ptxas makes of it for this GPU (registers, spills).
  if command -v nvcc >/dev/null; then
    local cc
    cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n1 | tr -d '.')
    stage ptxas 120 bash -c "nvcc -ptx -arch=compute_80 -O3 -o /tmp/ranking.ptx gpu/src/main/cuda/ranking.cu &&
      ptxas -arch=sm_${cc:-90} -v /tmp/ranking.ptx -o /tmp/ranking.cubin"
  fi

  # 1. The CUDA tests, required to run (a skip is a failure here): CUDA against the CPU reference, the verticle.
  stage cuda-tests 240 "$java" --add-modules jdk.incubator.vector -Dwxmp.requireCuda=true \
    -jar "$DEV"/junit/junit-platform-console-standalone-*.jar execute --class-path "$cp" \
    --select-class io.wxmp.gpu.CudaScorerTest --select-class io.wxmp.gpu.BackendDetectionTest \
    --select-class io.wxmp.gpu.RankingVerticleTest --details=tree --disable-banner \
    --reports-dir "$OUTDIR/junit"

  # 2. Our kernels on the GPU, exporting the same matrices and queries for PyTorch.
  local data=/tmp/wxmp-ranking-data
  rm -rf "$data"
  stage bench-cuda 200 "$java" -Xms8g -Xmx8g --add-modules jdk.incubator.vector \
    -Dlogback.configurationFile="$DEV/ranking-logback.xml" -cp "$cp" io.wxmp.bench.ranking.RankingBench \
    --backend cuda --n 100000,1000000 --dims 64,128 --k 50 --batches 1,32,256 --seconds 1 --export "$data"
  cp "$OUTDIR/bench-cuda.log" "$OUTDIR/bench-cuda.md"

  # 3. PyTorch matmul + topk on the same data and the same GPU.
  local bw=3350
  nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | grep -qi h200 && bw=4800
  stage bench-torch 150 python3 bench/ranking_torch.py "$data" --k 50 --seconds 1 --bandwidth-gbs "$bw"
  cp "$OUTDIR/bench-torch.log" "$OUTDIR/bench-torch.md"
  rm -rf "$data"

  echo "== stages"
  cat "$OUTDIR/stages.md"
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "$@" ;;
  *) echo "usage: $0 prepare | run [OUTDIR]" >&2; exit 2 ;;
esac
