"""Table-I-style benchmark of the engine on real CIFAR-10 embeddings (../shared).

Power-law subsets follow the paper's CIFAR10-PL protocol (class c keeps its first
int(1000 * (c + 1) ** -alpha) rows). Prints a Markdown table of mean ± std over seeds of
Hungarian accuracy, mean per-class accuracy and NMI, the one-cluster accuracy of each subset,
the alpha picked by the label-free search, and wall times.

    .venv/bin/python benchmarks/bench_engine.py --seeds 5 --full-search-seeds 1
"""

import argparse
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch

from petturtle import KMeans, LinearProbe, PetTurtle, evaluate_clustering

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "cifar10-test-effnetlite0.npz"
SUBSETS = {"balanced": None, "0.25": 0.25, "0.5": 0.5, "1": 1.0, "1.5": 1.5, "2": 2.0}


def power_law_subset(X, y, alpha):
    if alpha is None:
        return X, y
    keep = np.concatenate([np.where(y == c)[0][: int(1000 * (c + 1) ** -alpha)] for c in range(10)])
    return X[keep], y[keep]


def probe_accuracy(X, y, seed, folds=5):
    """Cross-validated accuracy of the supervised linear probe (the upper bound)."""
    order = np.random.default_rng(seed).permutation(len(y))
    correct = 0
    for fold in range(folds):
        test = order[fold::folds]
        train = np.setdiff1d(order, test)
        probe = LinearProbe(device="cpu").fit(X[train], y[train])
        correct += (probe.predict(X[test]) == y[test]).sum()
    return correct / len(y)


def load_embeddings(threads):
    """The shared embeddings as float32 with their labels, torch set to ``threads`` threads."""
    if not DATA.exists():
        raise SystemExit(f"needs {DATA} (the shared CIFAR-10 embeddings); it is absent here")
    torch.set_num_threads(threads)
    data = np.load(DATA)
    return data["X"].astype(np.float32), data["y"]


def headline_scores(y, labels):
    """(accuracy, mean per-class accuracy, NMI) of one labeling against the true classes."""
    report = evaluate_clustering(y, labels)
    return np.array([report["accuracy"], report["mean_per_class_accuracy"], report["nmi"]])


def slashed(values):
    """Scores written "0.123 / 0.456 / 0.789", as the tables show them."""
    return " / ".join(f"{v:.3f}" for v in values)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--full-search-seeds", type=int, default=1, help="seeds of the 88-configuration search")
    parser.add_argument("--subsets", nargs="+", default=list(SUBSETS), choices=list(SUBSETS))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    X_all, y_all = load_embeddings(args.threads)

    methods = {
        "K-means++": lambda X, a, s: KMeans(10, random_state=s, device="cpu").fit(X),
        "TURTLE (γ label-free)": lambda X, a, s: PetTurtle(10, method="turtle", random_state=s, device="cpu").fit(X),
        "PET-TURTLE (α given, γ label-free)": lambda X, a, s: PetTurtle(10, alpha=a, random_state=s, device="cpu").fit(X),
        "PET-TURTLE fixed order (α given)": lambda X, a, s: PetTurtle(10, alpha=a, prior_order="fixed", random_state=s, device="cpu").fit(X),
        "PET-TURTLE (fully label-free)": lambda X, a, s: PetTurtle(10, random_state=s, device="cpu").fit(X),
    }
    rows, timings = [], []
    for name in args.subsets:
        alpha = SUBSETS[name]
        X, y = power_law_subset(X_all, y_all, alpha)
        given = 0.0 if alpha is None else alpha
        one_cluster = np.bincount(y).max() / len(y)
        for method, make in methods.items():
            seeds = args.full_search_seeds if "fully" in method else args.seeds
            scores, picks, seconds = [], [], []
            for seed in range(seeds):
                model, elapsed = timed(lambda: make(X, given, seed))
                scores.append(headline_scores(y, model.labels_))
                picks.append(getattr(model, "alpha_", None))
                seconds.append(elapsed)
            rows.append((name, len(y), one_cluster, method, np.array(scores), picks, np.mean(seconds)))
            print_row(rows[-1], flush=True)
        probe = [probe_accuracy(X, y, seed) for seed in range(min(args.seeds, 2))]
        rows.append((name, len(y), one_cluster, "Linear probe (supervised)", np.array([[p, np.nan, np.nan] for p in probe]), [None], 0.0))
        print_row(rows[-1], flush=True)
        if alpha == 1.0:
            _, one_fit = timed(lambda: PetTurtle(10, gamma=25.0, alpha=1.0, random_state=0, device="cpu").fit(X))
            timings.append(("one fit, α=1 subset (N=%d), γ=25, α=1" % len(y), one_fit))
    _, default_fit = timed(lambda: PetTurtle(10, gamma=25.0, alpha=0.0, random_state=0, device="cpu").fit(X_all))
    timings.append(("one fit, N=10000, d=1280, C=10", default_fit))

    print(f"\n## Engine benchmark ({date.today()}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__})\n")
    print("| subset | N | one-cluster acc | method | seeds | accuracy | mean per-class acc | NMI | α picked | s / fit |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print_row(row)
    print("\n| timing | seconds |\n|---|---|")
    for label, seconds in timings:
        print(f"| {label} | {seconds:.1f} |")


def fmt(values):
    if np.all(np.isnan(values)):
        return "–"
    return f"{np.nanmean(values):.3f} ± {np.nanstd(values):.3f}"


def print_row(row, flush=False):
    name, n, one_cluster, method, scores, picks, seconds = row
    picked = ", ".join(f"{p:g}" for p in picks if p is not None) or "–"
    print(
        f"| {name} | {n} | {one_cluster:.3f} | {method} | {len(scores)} | {fmt(scores[:, 0])} | "
        f"{fmt(scores[:, 1])} | {fmt(scores[:, 2])} | {picked} | {seconds:.1f} |",
        flush=flush,
    )


if __name__ == "__main__":
    main()
