"""Scale benchmark of the FiftyOne layer: synthetic vectors in a real database, clustered.

Prints the time and peak resident memory of each stage (insert, read embeddings, fit, write
labels, save run) next to the size of the embedding matrix. Needs a database, e.g.:

    bash scripts/with-mongod.sh .venv/bin/python benchmarks/bench_scale.py --samples 200000
"""

import argparse
import os
import threading
import time
import uuid

import numpy as np


def _rss_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class StageMeter:
    """Wall time and peak RSS per named stage; a background thread samples RSS every 20 ms."""

    def __init__(self):
        self.rows = {}
        self.stage = None
        self._started = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        while not self._stop.wait(0.02):
            if self.stage is not None:
                row = self.rows[self.stage]
                row["peak"] = max(row["peak"], _rss_bytes())

    def enter(self, stage):
        now = time.perf_counter()
        if self.stage is not None:
            self.rows[self.stage]["seconds"] += now - self._started
        self.stage, self._started = stage, now
        if stage is not None:
            self.rows.setdefault(stage, {"seconds": 0.0, "peak": _rss_bytes()})

    def close(self):
        self.enter(None)
        self._stop.set()
        self._thread.join()


def insert_vectors(dataset, n_samples, dim, n_clusters, seed, batch=5000):
    """Power-law sized Gaussian clusters of unit vectors, inserted in batches."""
    import fiftyone as fo

    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(n_clusters, dim)).astype(np.float32)
    weights = np.arange(1, n_clusters + 1, dtype=np.float64) ** -1.0
    for start in range(0, n_samples, batch):
        count = min(batch, n_samples - start)
        labels = rng.choice(n_clusters, size=count, p=weights / weights.sum())
        vectors = centers[labels] + rng.normal(scale=1.5, size=(count, dim)).astype(np.float32)
        dataset.add_samples(
            [fo.Sample(filepath=f"/synthetic/{start + i}.jpg", embedding=v) for i, v in enumerate(vectors)],
            progress=False,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--n-iter", type=int, default=20, help="outer steps of the (small) fit schedule")
    parser.add_argument(
        "--search", action="store_true",
        help="the default call instead: label-free search over the 88 (gamma, alpha) pairs, default schedule",
    )
    parser.add_argument("--method", default="pet-turtle", choices=["pet-turtle", "turtle", "kmeans"])
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    import fiftyone as fo

    import petturtle

    fo.config.show_progress_bars = False
    dataset = fo.Dataset(f"petturtle-bench-{uuid.uuid4().hex[:8]}")
    meter = StageMeter()
    try:
        meter.enter("insert")
        insert_vectors(dataset, args.samples, args.dim, args.clusters, seed=0)
        meter.enter(None)
        # Libraries count in the baseline, not in the first stage that happens to load them.
        import petturtle.fo.clustering  # noqa: F401
        import torch

        torch.ones(8) @ torch.ones(8)
        baseline = _rss_bytes()
        meter.enter("read embeddings")
        stage_of = {"read": "read embeddings", "train": "fit", "select": "fit", "write": "write labels"}

        def on_progress(stage, done, total):
            meter.enter(stage_of[stage])
            # The stage after the last report of "read" (or "write") is the fit (or the run's save).
            if done == total and stage in ("read", "write"):
                meter.enter("fit" if stage == "read" else "save run")

        if args.search:
            settings = {"gamma": "auto", "alpha": "auto"}
        else:
            settings = {"gamma": 10.0, "alpha": 1.0}
            if args.method != "kmeans":
                settings["engine_params"] = {"n_iter": args.n_iter, "inner_steps": 5}
        petturtle.compute_clusters(
            dataset, args.clusters, embeddings="embedding", method=args.method,
            random_state=0, device=args.device, progress=on_progress, **settings,
        )
        meter.close()
    finally:
        fo.delete_dataset(dataset.name)

    matrix_mib = args.samples * args.dim * 4 / 2**20
    fit = "label-free search, default schedule" if args.search else f"gamma=10, alpha=1, n_iter={args.n_iter}"
    print(f"\n{args.samples} x {args.dim} float32 ({matrix_mib:.0f} MiB matrix), {args.method}, "
          f"{args.clusters} clusters, {fit}")
    print(f"RSS before clustering: {baseline / 2**20:.0f} MiB (libraries and the inserted samples)")
    print(f"{'stage':<16} {'seconds':>9} {'peak RSS MiB':>13} {'above start':>12} {'x matrix':>9}")
    for stage, row in meter.rows.items():
        above = (row["peak"] - baseline) / 2**20
        # The baseline is taken after the insert, so the insert has no "above start".
        above_text, ratio = (f"{above:>12.0f}", f"{above / matrix_mib:>9.2f}") if stage != "insert" else ("", "")
        print(f"{stage:<16} {row['seconds']:>9.1f} {row['peak'] / 2**20:>13.0f} {above_text:>12} {ratio:>9}")
    print(f"{'total':<16} {sum(r['seconds'] for r in meter.rows.values()):>9.1f}")


if __name__ == "__main__":
    main()
