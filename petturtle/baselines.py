"""Baselines in the estimator style: K-means++ (torch) and a supervised linear probe."""

import numpy as np
import torch

from .device import resolve_device
from .validation import as_spaces, check_n_clusters

_CHUNK_ROWS = 65536


def _prepare(X, normalize, device):
    (x,) = as_spaces([X])
    x = x.to(device)
    if normalize:
        x = x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return x


def _nearest(x, x_sq, centers):
    """Index of, and squared distance to, the nearest center for each row (chunked).

    ``x_sq`` holds the squared row norms of ``x``, computed once per fit.
    """
    index = torch.empty(x.shape[0], dtype=torch.int64, device=x.device)
    dist = torch.empty(x.shape[0], device=x.device)
    center_sq = (centers * centers).sum(1)
    for start in range(0, x.shape[0], _CHUNK_ROWS):
        chunk = x[start : start + _CHUNK_ROWS]
        d = x_sq[start : start + _CHUNK_ROWS, None] - 2 * chunk @ centers.T + center_sq
        dist[start : start + chunk.shape[0]], index[start : start + chunk.shape[0]] = d.clamp_min(0).min(1)
    return index, dist


class KMeans:
    """Lloyd's K-means with k-means++ seeding; the best of ``n_init`` runs by inertia.

    ``normalize`` L2-normalizes rows first (cosine K-means, the usual choice for CLIP).
    A run stops when the centers move (squared, summed) less than ``tol`` times the data's
    total variance, as in scikit-learn.
    """

    def __init__(self, n_clusters, *, n_init=10, max_iter=300, tol=1e-4, normalize=True, random_state=None, device="auto"):
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.normalize = normalize
        self.random_state = random_state
        self.device = device

    def fit(self, X, y=None):
        device = resolve_device(self.device)
        x = _prepare(X, self.normalize, device)
        check_n_clusters(self.n_clusters, x.shape[0])
        generator = torch.Generator()
        generator.manual_seed(self.random_state if self.random_state is not None else int(np.random.SeedSequence().entropy % 2**63))
        x_sq = (x * x).sum(1)
        threshold = self.tol * float(x.var(0).mean())
        best = None
        for _ in range(self.n_init):
            centers = self._seed(x, generator)
            for iteration in range(self.max_iter):
                labels, dist = _nearest(x, x_sq, centers)
                sums = torch.zeros_like(centers).index_add_(0, labels, x)
                counts = torch.bincount(labels, minlength=self.n_clusters).unsqueeze(1)
                # An emptied cluster keeps its old center rather than collapsing to the origin.
                new_centers = torch.where(counts > 0, sums / counts.clamp_min(1), centers)
                shift = ((new_centers - centers) ** 2).sum()
                centers = new_centers
                if shift <= threshold:
                    break
            labels, dist = _nearest(x, x_sq, centers)
            inertia = float(dist.sum())
            if best is None or inertia < best[0]:
                best = (inertia, centers, labels, iteration + 1)
        self.inertia_, centers, labels, self.n_iter_ = best
        self.cluster_centers_ = centers.cpu().numpy()
        self.labels_ = labels.cpu().numpy()
        self.cluster_sizes_ = np.bincount(self.labels_, minlength=self.n_clusters)
        return self

    def _seed(self, x, generator):
        """k-means++: each next center drawn with probability proportional to squared distance."""
        n = x.shape[0]
        first = torch.randint(n, (1,), generator=generator).item()
        centers = [x[first]]
        closest = ((x - x[first]) ** 2).sum(1)
        for _ in range(1, self.n_clusters):
            weights = closest.cpu().double()
            if weights.sum() <= 0:
                pick = torch.randint(n, (1,), generator=generator).item()
            else:
                pick = torch.multinomial(weights, 1, generator=generator).item()
            centers.append(x[pick])
            closest = torch.minimum(closest, ((x - x[pick]) ** 2).sum(1))
        return torch.stack(centers)

    def fit_predict(self, X, y=None):
        return self.fit(X).labels_

    def predict(self, X):
        if not hasattr(self, "cluster_centers_"):
            raise ValueError("this KMeans is not fitted yet: call fit(X) first")
        x = _prepare(X, self.normalize, resolve_device(self.device))
        labels, _ = _nearest(x, (x * x).sum(1), torch.as_tensor(self.cluster_centers_, device=x.device))
        return labels.cpu().numpy()


class LinearProbe:
    """Supervised multinomial logistic regression (L-BFGS); an upper bound for benchmarks only."""

    def __init__(self, *, l2=1e-4, max_iter=200, normalize=True, device="auto"):
        self.l2 = l2
        self.max_iter = max_iter
        self.normalize = normalize
        self.device = device

    def fit(self, X, y):
        device = resolve_device(self.device)
        x = _prepare(X, self.normalize, device)
        self.classes_, y_index = np.unique(np.asarray(y), return_inverse=True)
        if len(y_index) != x.shape[0]:
            raise ValueError(f"X has {x.shape[0]} rows but y has {len(y_index)} labels")
        target = torch.as_tensor(y_index, device=device)
        self.mean_ = x.mean(0)
        x = x - self.mean_
        weight = torch.zeros(x.shape[1], len(self.classes_), device=device, requires_grad=True)
        bias = torch.zeros(len(self.classes_), device=device, requires_grad=True)
        optimizer = torch.optim.LBFGS([weight, bias], max_iter=self.max_iter, line_search_fn="strong_wolfe")

        def closure():
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(x @ weight + bias, target) + self.l2 * (weight**2).sum()
            loss.backward()
            return loss

        optimizer.step(closure)
        self.coef_, self.intercept_ = weight.detach(), bias.detach()
        return self

    def predict(self, X):
        if not hasattr(self, "coef_"):
            raise ValueError("this LinearProbe is not fitted yet: call fit(X, y) first")
        x = _prepare(X, self.normalize, self.coef_.device) - self.mean_
        return self.classes_[(x @ self.coef_ + self.intercept_).argmax(1).cpu().numpy()]
