"""Peak memory (RSS) and time of one engine fit on large synthetic embeddings.

    .venv/bin/python benchmarks/bench_memory.py --samples 100000 --dim 1024          # full 88-configuration search
    .venv/bin/python benchmarks/bench_memory.py --samples 100000 --dim 1024 --single # one configuration

Prints one Markdown table row. The data are power-law Gaussian blobs, float32.
"""

import argparse
import resource
import time

import numpy as np
import torch

from petturtle import PetTurtle, evaluate_clustering


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--single", action="store_true", help="one (gamma, alpha) instead of the label-free search")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    sizes = np.floor(args.samples * (np.arange(1, args.clusters + 1) ** -1.0) / (np.arange(1, args.clusters + 1) ** -1.0).sum()).astype(int)
    sizes[0] += args.samples - sizes.sum()
    y = np.repeat(np.arange(args.clusters), sizes)
    X = np.empty((args.samples, args.dim), dtype=np.float32)
    centers = rng.normal(size=(args.clusters, args.dim)).astype(np.float32) * 0.3
    for start in range(0, args.samples, 50_000):
        block = slice(start, start + 50_000)
        X[block] = centers[y[block]] + rng.standard_normal((len(y[block]), args.dim), dtype=np.float32)
    data_mb = X.nbytes / 2**20
    before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    params = dict(gamma=5.0, alpha=1.0) if args.single else {}
    start = time.perf_counter()
    model = PetTurtle(args.clusters, random_state=0, device=args.device, **params).fit(X)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    accuracy = evaluate_clustering(y, model.labels_)["accuracy"]
    search = "one configuration" if args.single else f"label-free search ({len(model.selection_)} configurations)"
    print("| data | fit | seconds | data MiB | peak RSS MiB (process) | peak before fit MiB | accuracy |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {args.samples} x {args.dim} float32 | {search} | {seconds:.1f} | {data_mb:.0f} | {peak_mb:.0f} | {before_mb:.0f} | {accuracy:.3f} |")


if __name__ == "__main__":
    main()
