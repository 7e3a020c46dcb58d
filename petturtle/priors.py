"""Power-law cluster-size priors and the exponent that best explains observed sizes."""

import numpy as np
import torch
from scipy.optimize import minimize_scalar

ALPHA_GRID = (0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 1.0, 1.25, 1.50, 1.75, 2.0)
GAMMA_GRID = (1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0)


def power_law_prior(n_clusters, alpha):
    """``Pi_c ∝ c^-alpha`` for ranks ``c = 1..n_clusters``, largest first (float64 numpy)."""
    if n_clusters < 1:
        raise ValueError(f"n_clusters must be at least 1, got {n_clusters}")
    if not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha}")
    ranks = np.arange(1, n_clusters + 1, dtype=np.float64)
    weights = ranks ** (-float(alpha))
    return weights / weights.sum()


def power_law_priors(n_clusters, alphas, device=None):
    """Stacks one prior per alpha: a float32 tensor (len(alphas), n_clusters)."""
    stacked = np.stack([power_law_prior(n_clusters, a) for a in alphas])
    return torch.as_tensor(stacked, dtype=torch.float32, device=device)


def fit_power_law_alpha(cluster_sizes, max_alpha=10.0):
    """Maximum-likelihood power-law exponent for the given cluster sizes.

    Each sample is treated as a draw of its cluster's size rank ``c`` (1 = largest)
    from ``Pi(alpha)``; the log-likelihood ``-alpha * sum_c n_c log c - N log Z(alpha)``
    is concave in alpha, so a bounded scalar search finds its maximum.
    """
    sizes = np.sort(np.asarray(cluster_sizes, dtype=np.float64))[::-1]
    if sizes.ndim != 1 or sizes.size < 2 or np.any(sizes < 0) or sizes.sum() <= 0:
        raise ValueError("cluster_sizes must hold at least two non-negative counts, not all zero")
    log_ranks = np.log(np.arange(1, sizes.size + 1, dtype=np.float64))
    total = sizes.sum()
    weighted = float(sizes @ log_ranks)

    def negative_log_likelihood(alpha):
        log_norm = np.logaddexp.reduce(-alpha * log_ranks)
        return alpha * weighted + total * log_norm

    result = minimize_scalar(negative_log_likelihood, bounds=(0.0, max_alpha), method="bounded")
    return float(result.x)
