#!/usr/bin/env bash
# Compiles gpu/src/main/cuda/*.cu to PTX under gpu/src/main/resources/io/wxmp/gpu/ (committed: at run time the
# driver JIT-compiles the PTX, so only libcuda is needed). compute_80 PTX runs on A100, H100 and newer.
# CudaPtxFreshnessTest checks the recorded source hash everywhere, and where nvcc exists compiles again and
# compares the code (comment lines aside: they name the compiler build).
set -euo pipefail
cd "$(dirname "$0")"
NVCC="${NVCC:-nvcc}"
for src in src/main/cuda/*.cu; do
  name="$(basename "$src" .cu)"
  out="src/main/resources/io/wxmp/gpu/$name.ptx"
  "$NVCC" -ptx -arch=compute_80 -O3 -o "$out" "$src"
  # Lets CudaPtxFreshnessTest catch a stale PTX even where no nvcc is installed.
  echo "// source-sha256: $(sha256sum "$src" | cut -d' ' -f1)" >> "$out"
  echo "built src/main/resources/io/wxmp/gpu/$name.ptx"
done
