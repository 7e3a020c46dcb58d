"""Can a label-free criterion find the power-law exponent? A diagnostic on real CIFAR-10 embeddings.

Trains the whole (gamma, alpha) grid of PET-TURTLE once per subset (the estimator's default
schedule and projection) and scores every labeling, and the ground-truth labeling, with
label-free criteria:

- kappa: Cohen's kappa of held-out ridge predictions (what ``PetTurtle`` selects with);
- cv accuracy: plain held-out accuracy (the paper's criterion);
- vs majority: held-out accuracy relative to the largest cluster's share,
  ``(acc - majority) / (1 - majority)``;
- gaussian ll: per-sample log-likelihood of the data under a Gaussian mixture with one shared
  (shrunk) covariance, weights and means taken from the labeling.

For each criterion it prints the mean score of each alpha over the gammas, the alpha that
wins, and where the true labeling ranks among the grid's labelings; then, using the labels for
scale only, the best labeling the grid holds. A criterion that can find
the exponent must at least rank the truth high and pick a larger alpha on steeper subsets.

    .venv/bin/python benchmarks/bench_selection.py --subsets balanced 1 2
"""

import argparse

import numpy as np
import torch

from bench_engine import SUBSETS, headline_scores, load_embeddings, power_law_subset, slashed
from petturtle import PetTurtle
from petturtle.engine import Schedule, fit_grid
from petturtle.priors import ALPHA_GRID, GAMMA_GRID, power_law_priors
from petturtle.representation import Projection
from petturtle.selection import cohen_kappa_per_labeling, cross_validated_predictions

N_CLUSTERS = 10
_SHRINKAGE = 0.1


def grid_labelings(X, seed, method="pet-turtle"):
    """Every (gamma, alpha) labeling of the default PetTurtle grid: (configs, labels (G, N), z).

    ``method="turtle"`` trains the same grid with TURTLE's softmax labels under the power-law prior.
    """
    model = PetTurtle(N_CLUSTERS, random_state=seed, device="cpu")
    configs = [(g, a) for g in GAMMA_GRID for a in ALPHA_GRID]
    projection = Projection.fit(torch.as_tensor(X), model.n_components, torch.device("cpu"), model.row_norm)
    z = projection.transform(torch.as_tensor(X))
    schedule = Schedule(
        model.n_iter, model.inner_steps, model.batch_size, model.outer_lr, model.inner_lr, model.warm_start
    )
    encoders, _ = fit_grid(
        [z], N_CLUSTERS, method, torch.tensor([g for g, _ in configs]),
        power_law_priors(N_CLUSTERS, [a for _, a in configs]), True, schedule,
        torch.Generator().manual_seed(seed),
    )
    with torch.no_grad():
        labels = encoders.label_distribution([z], method).argmax(-1).T
    return configs, labels, z


def gaussian_log_likelihood(z, labels):
    """Mean log-likelihood per sample (up to a shared constant) of a tied-covariance mixture."""
    z = z.double()
    n, dim = z.shape
    out = []
    for labeling in labels:
        counts = torch.bincount(labeling, minlength=N_CLUSTERS).double()
        one_hot = torch.nn.functional.one_hot(labeling, N_CLUSTERS).double()
        means = (one_hot.T @ z) / counts.clamp_min(1)[:, None]
        residual = z - means[labeling]
        covariance = residual.T @ residual / n
        covariance = (1 - _SHRINKAGE) * covariance + _SHRINKAGE * covariance.trace() / dim * torch.eye(dim, dtype=z.dtype)
        cholesky = torch.linalg.cholesky(covariance)
        white_z = torch.linalg.solve_triangular(cholesky, z.T, upper=False).T
        white_means = torch.linalg.solve_triangular(cholesky, means.T, upper=False).T
        log_weights = torch.log((counts / n).clamp_min(1e-12))
        log_det = 2 * torch.log(torch.diagonal(cholesky)).sum()
        per_sample = torch.logsumexp(log_weights - torch.cdist(white_z, white_means).square() / 2, dim=1)
        out.append(float(per_sample.mean() - log_det / 2))
    return np.array(out)


def criteria(z, labels, seed):
    labels, predictions = cross_validated_predictions(z, labels, N_CLUSTERS, 10, torch.Generator().manual_seed(seed))
    accuracy = (labels == predictions).double().mean(1).numpy()
    majority = np.array([np.bincount(l, minlength=N_CLUSTERS).max() / len(l) for l in labels.numpy()])
    return {
        "kappa": cohen_kappa_per_labeling(labels, predictions, N_CLUSTERS).numpy(),
        "cv accuracy": accuracy,
        "vs majority": (accuracy - majority) / (1 - majority),
        "gaussian ll": gaussian_log_likelihood(z, labels),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subsets", nargs="+", default=["balanced", "1", "2"], choices=list(SUBSETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    X_all, y_all = load_embeddings(args.threads)

    header = "| subset | criterion | " + " | ".join(f"α={a:g}" for a in ALPHA_GRID) + " | α picked | truth's rank | picked: acc / mpca / NMI |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name in args.subsets:
        X, y = power_law_subset(X_all, y_all, SUBSETS[name])
        configs, labels, z = grid_labelings(X, args.seed)
        grid = criteria(z, labels, args.seed + 1)
        truth = criteria(z, torch.as_tensor(y)[None], args.seed + 1)
        alphas = np.array([a for _, a in configs])
        for criterion, scores in grid.items():
            means = [scores[alphas == a].mean() for a in ALPHA_GRID]
            picked_alpha = ALPHA_GRID[int(np.argmax(means))]
            candidates = np.flatnonzero(alphas == picked_alpha)
            picked = candidates[np.argmax(scores[candidates])]
            found = headline_scores(y, labels[picked].numpy())
            rank = 1 + int((scores > truth[criterion][0]).sum())
            print(
                f"| {name} | {criterion} | " + " | ".join(f"{m:.3f}" for m in means)
                + f" | {picked_alpha:g} | {rank} of {len(configs) + 1} | {slashed(found)} |",
                flush=True,
            )
        # With labels, for scale only: the best labeling the grid holds, by true NMI.
        scored = [headline_scores(y, l) for l in labels.numpy()]
        best = max(range(len(configs)), key=lambda i: scored[i][2])
        print(
            f"| {name} | best in grid by true NMI (uses labels) | " + " | ".join("" for _ in ALPHA_GRID)
            + f" | {configs[best][1]:g} (γ={configs[best][0]:g}) | | {slashed(scored[best])} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
