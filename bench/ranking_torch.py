#!/usr/bin/env python3
"""PyTorch baseline for the ranking benchmark: matmul + topk on the same data, on the same GPU.

Reads what `bench/ranking.sh --backend cuda --export DIR` wrote: matrix_<N>_<dim>.f32 (row-major float32, row i is
item id i) and queries_<N>_<dim>.f32 (512 unit queries). For each file pair and batch size 1, 32, 256 it prints
queries/s and p50/p99 latency of `torch.topk(queries @ matrix.T, k)`, timed with CUDA events after a warm-up, and
the time to read the matrix once at the device's memory bandwidth (the batch-1 floor), as markdown rows.

Usage: python3 bench/ranking_torch.py DIR [--k 50] [--seconds 2] [--bandwidth-gbs 3350]
"""
import argparse
import glob
import os
import re
import time

import numpy as np
import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--bandwidth-gbs", type=float, default=3350.0, help="H100 SXM HBM3: 3350 GB/s")
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False  # same fp32 arithmetic as our kernels
    dev = torch.device("cuda")
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(dev)}, k={args.k}")
    print("| N | dim | batch | queries/s | p50 ms | p99 ms | matrix read at bandwidth ms |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for path in sorted(glob.glob(os.path.join(args.dir, "matrix_*_*.f32"))):
        n, dim = map(int, re.search(r"matrix_(\d+)_(\d+)\.f32", path).groups())
        m = torch.from_numpy(np.fromfile(path, dtype=np.float32).reshape(n, dim)).to(dev)
        qs = torch.from_numpy(
            np.fromfile(path.replace("matrix_", "queries_"), dtype=np.float32).reshape(-1, dim)).to(dev)
        floor_ms = n * dim * 4 / (args.bandwidth_gbs * 1e9) * 1e3
        for batch in (1, 32, 256):
            lat = []
            i = 0
            def one():
                nonlocal i
                q = qs[(torch.arange(batch, device=dev) + i) % qs.shape[0]]
                i += batch
                scores = q @ m.T
                vals, idx = torch.topk(scores, args.k, dim=1)
                # Results to the host, as our scorer returns them.
                return vals.cpu(), idx.cpu()
            end = time.time() + args.seconds * 0.25
            while time.time() < end:
                one()
            torch.cuda.synchronize()
            start = time.time()
            end = start + args.seconds
            while len(lat) < 5 or time.time() < end:
                s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                s.record()
                one()
                e.record()
                e.synchronize()
                lat.append(s.elapsed_time(e))
            total = time.time() - start
            lat.sort()
            p50 = lat[len(lat) // 2]
            p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
            print(f"| {n:,} | {dim} | {batch} | {len(lat) * batch / total:,.0f} | {p50:.3f} | {p99:.3f} | "
                  f"{floor_ms:.3f} |")
        del m, qs
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
