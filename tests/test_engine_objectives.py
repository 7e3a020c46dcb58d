"""Sparsemax, the KL prior term, priors and the selection score."""

import itertools

import numpy as np
import pytest
import torch

from petturtle.objectives import entropy, kl_to_prior, label_distribution
from petturtle.priors import fit_power_law_alpha, power_law_prior
from petturtle.selection import cohen_kappa_per_labeling, cross_validated_scores


def _brute_force_simplex_projection(z):
    """Closest point of the simplex, searched over every support set (small C only)."""
    best, best_dist = None, np.inf
    c = z.size
    for size in range(1, c + 1):
        for support in itertools.combinations(range(c), size):
            support = list(support)
            p = np.zeros(c)
            p[support] = z[support] - (z[support].sum() - 1) / size
            if np.all(p >= -1e-12):
                dist = np.sum((p - z) ** 2)
                if dist < best_dist:
                    best, best_dist = p, dist
    return best


def test_sparsemax_is_the_euclidean_projection_onto_the_simplex():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=1.5, size=(200, 5))
    got = label_distribution(torch.as_tensor(logits), "pet-turtle").numpy()
    want = np.stack([_brute_force_simplex_projection(z) for z in logits])
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert (got == 0).any(), "sparsemax should zero out low logits"


def test_sparsemax_gradient_matches_finite_differences():
    logits = torch.randn(6, 3, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 2
    logits.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: label_distribution(x, "pet-turtle"), (logits,))


def test_turtle_labels_are_softmax():
    logits = torch.randn(4, 2, 5)
    torch.testing.assert_close(label_distribution(logits, "turtle"), torch.softmax(logits, -1))


def test_kl_runs_from_mean_labels_to_prior():
    tau_bar = torch.tensor([[0.7, 0.2, 0.1]])
    prior = torch.tensor([[0.4, 0.4, 0.2]])
    forward = float((tau_bar * (tau_bar / prior).log()).sum())
    reverse = float((prior * (prior / tau_bar).log()).sum())
    got = float(kl_to_prior(tau_bar, prior, sort=False))
    assert got == pytest.approx(forward, rel=1e-6)
    assert abs(got - reverse) > 1e-3


def test_sorted_kl_is_permutation_invariant_and_fixed_is_not():
    prior = torch.as_tensor(power_law_prior(4, 1.0), dtype=torch.float32)[None]
    tau_bar = torch.tensor([[0.1, 0.5, 0.15, 0.25]])
    shuffled = tau_bar[:, [3, 0, 2, 1]]
    assert float(kl_to_prior(tau_bar, prior)) == pytest.approx(float(kl_to_prior(shuffled, prior)))
    assert float(kl_to_prior(tau_bar, prior, sort=False)) != pytest.approx(
        float(kl_to_prior(shuffled, prior, sort=False))
    )


def test_kl_and_entropy_are_finite_when_a_cluster_has_zero_mass():
    prior = torch.as_tensor(power_law_prior(3, 1.0), dtype=torch.float32)[None]
    tau_bar = torch.tensor([[0.6, 0.4, 0.0]], requires_grad=True)
    value = kl_to_prior(tau_bar, prior) + entropy(tau_bar)
    value.sum().backward()
    assert torch.isfinite(value).all() and torch.isfinite(tau_bar.grad).all()
    expected = 0.6 * np.log(0.6 / prior[0, 0]) + 0.4 * np.log(0.4 / prior[0, 1])
    assert float(kl_to_prior(tau_bar, prior)) == pytest.approx(float(expected), rel=1e-5)


def test_power_law_prior_and_its_fitted_exponent():
    prior = power_law_prior(10, 1.0)
    assert prior.sum() == pytest.approx(1.0)
    assert prior[0] / prior[1] == pytest.approx(2.0)
    for alpha in (0.0, 0.5, 1.0, 2.0):
        sizes = np.round(100000 * power_law_prior(10, alpha))
        assert fit_power_law_alpha(sizes[::-1]) == pytest.approx(alpha, abs=0.01)
    with pytest.raises(ValueError):
        power_law_prior(5, -1.0)
    with pytest.raises(ValueError):
        fit_power_law_alpha([0, 0, 0])


def test_kappa_gives_no_credit_for_a_collapsed_labeling():
    labels = torch.tensor([[0, 0, 1, 1], [0, 0, 0, 0], [0, 0, 0, 1]])
    predictions = torch.tensor([[0, 0, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0]])
    scores = cohen_kappa_per_labeling(labels, predictions, n_clusters=2)
    assert scores.tolist() == [1.0, 0.0, 0.0]


def test_cross_validation_prefers_true_structure_over_collapse_and_random_splits():
    gen = torch.Generator().manual_seed(0)
    centers = torch.randn(4, 8, generator=gen) * 6
    truth = torch.arange(400) % 4
    z = centers[truth] + torch.randn(400, 8, generator=gen)
    collapsed = torch.where(torch.arange(400) < 3, torch.arange(400) % 4, torch.zeros(400, dtype=torch.long))
    random = torch.randint(4, (400,), generator=gen)
    scores = cross_validated_scores(z, torch.stack([truth, collapsed, random]), 4, 5, gen)
    assert scores[0] > 0.95
    assert scores[0] > scores[1] + 0.3
    assert scores[0] > scores[2] + 0.3
