"""Label-free model selection: how well a linear classifier predicts each candidate labeling.

A labeling whose clusters are separated by wide margins is one a linear classifier learns
from part of the data and predicts on the rest. The classifier is ridge regression onto
one-hot labels: its K-fold fits for all G candidate labelings share one Gram matrix per
fold, so the whole grid is scored with K small linear solves.

The score is Cohen's kappa between held-out predictions and the labeling: agreement beyond
what the cluster sizes alone give by chance. Plain accuracy rewards labelings that pour
almost everything into one cluster (predicting the big cluster is easy); kappa scores a
one-cluster labeling 0, and an empty cluster simply adds nothing. Balanced accuracy (mean
recall per cluster), another guard we measured, picked near-uniform priors on every
power-law subset of the benchmark; kappa's excess over size-matched random linear labelings
picked alpha >= 1 on the balanced set. Kappa follows the imbalance part of the way.
"""

import torch

_RIDGE = 1e-2


def cohen_kappa_per_labeling(labels, predictions, n_clusters):
    """Agreement beyond chance, ``(p_o - p_e) / (1 - p_e)``: (G,); 0 for a one-cluster labeling."""
    n = labels.shape[1]
    observed = (labels == predictions).double().mean(1)
    label_share = torch.zeros(labels.shape[0], n_clusters, dtype=torch.float64, device=labels.device)
    label_share.scatter_add_(1, labels, torch.ones_like(labels, dtype=torch.float64))
    predicted_share = torch.zeros_like(label_share)
    predicted_share.scatter_add_(1, predictions, torch.ones_like(predictions, dtype=torch.float64))
    chance = (label_share * predicted_share).sum(1) / n**2
    return torch.where(chance < 1, (observed - chance) / (1 - chance).clamp_min(1e-12), torch.zeros_like(chance))


def cross_validated_scores(z, labels, n_clusters, n_folds, generator, max_samples=None):
    """K-fold kappa of a ridge classifier for each labeling: (G,) float64 on CPU.

    z: (N, r) features; labels: (G, N) integer labelings of the same samples.
    """
    labels, predictions = cross_validated_predictions(z, labels, n_clusters, n_folds, generator, max_samples)
    return cohen_kappa_per_labeling(labels, predictions, n_clusters).cpu()


def cross_validated_predictions(z, labels, n_clusters, n_folds, generator, max_samples=None):
    """Held-out ridge predictions of every labeling: ``(labels, predictions)``, both (G, n) int64.

    With ``max_samples`` the scoring runs on a random subset of n samples, and ``labels``
    comes back restricted to it.
    """
    n_samples = z.shape[0]
    device = z.device
    if max_samples is not None and n_samples > max_samples:
        keep = torch.randperm(n_samples, generator=generator)[:max_samples].to(device)
        z, labels, n_samples = z[keep], labels[:, keep], max_samples
    labels = labels.long()
    n_configs = labels.shape[0]
    n_folds = max(2, min(n_folds, n_samples))
    features = torch.cat([z, torch.ones(n_samples, 1, device=device)], dim=1).double()
    dim = features.shape[1]
    fold_of = (torch.randperm(n_samples, generator=generator) % n_folds).to(device)

    gram = features.T @ features
    cross = _class_sums(features, labels, n_clusters)
    predictions = torch.empty_like(labels)
    for fold in range(n_folds):
        held_out = fold_of == fold
        f_out = features[held_out]
        train_gram = gram - f_out.T @ f_out
        train_cross = cross - _class_sums(f_out, labels[:, held_out], n_clusters)
        n_train = n_samples - f_out.shape[0]
        ridge = _RIDGE * n_train / dim * torch.eye(dim, device=device, dtype=torch.float64)
        weights = torch.linalg.solve(train_gram + ridge, train_cross)
        scores = (f_out @ weights).view(-1, n_configs, n_clusters)
        predictions[:, held_out] = scores.argmax(-1).T
    return labels, predictions


def _class_sums(features, labels, n_clusters):
    """``features.T @ one_hot(labels)`` for every labeling, (dim, G·C), one labeling at a time:
    the (n, G·C) one-hot matrix itself would take 140 MB for 88 labelings of 20000 samples."""
    n_configs = labels.shape[0]
    sums = torch.zeros(n_configs * n_clusters, features.shape[1], dtype=features.dtype, device=features.device)
    for config in range(n_configs):
        sums.index_add_(0, labels[config] + config * n_clusters, features)
    return sums.T
