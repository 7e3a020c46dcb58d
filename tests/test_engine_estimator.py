"""PetTurtle end to end: determinism, input checks, imbalance, baselines and metrics."""

from pathlib import Path

import numpy as np
import pytest
import torch

from petturtle import (
    KMeans,
    LinearProbe,
    PetTurtle,
    adjusted_rand_index,
    evaluate_clustering,
    hungarian_accuracy,
    mean_per_class_accuracy,
    normalized_mutual_info,
)

SHARED_EMBEDDINGS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "cifar10-test-effnetlite0.npz"
FAST = dict(n_iter=60, random_state=0, device="cpu")


def power_law_blobs(sizes, dim=16, spread=4.0, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=spread, size=(len(sizes), dim))
    X = np.concatenate([c + rng.normal(size=(n, dim)) for c, n in zip(centers, sizes)])
    y = np.repeat(np.arange(len(sizes)), sizes)
    return X.astype(np.float32), y


def test_fit_learns_every_documented_attribute():
    X, y = power_law_blobs([80, 60, 40])
    model = PetTurtle(3, gamma=[5.0, 50.0], alpha=[0.5, 1.0], **FAST).fit(X)
    assert model.labels_.shape == (180,) and model.labels_.dtype == np.int64
    assert model.probabilities_.shape == (180, 3)
    np.testing.assert_allclose(model.probabilities_.sum(1), 1.0, atol=1e-5)
    assert model.gamma_ in (5.0, 50.0) and model.alpha_ in (0.5, 1.0)
    assert model.prior_ == pytest.approx(np.array([1, 2.0**-model.alpha_, 3.0**-model.alpha_]) / (1 + 2.0**-model.alpha_ + 3.0**-model.alpha_))
    assert model.cluster_sizes_.sum() == 180
    assert 0 <= model.fitted_alpha_ <= 10
    assert len(model.selection_) == 4 and {"gamma", "alpha", "score", "n_empty_clusters"} <= set(model.selection_[0])
    assert model.history_.shape == (60,)
    assert hungarian_accuracy(y, model.labels_) > 0.95
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    assert model.get_params()["n_clusters"] == 3


def test_same_random_state_gives_the_same_labels_and_float16_is_accepted():
    X, _ = power_law_blobs([50, 30, 20], seed=3)
    first = PetTurtle(3, gamma=10.0, alpha=1.0, **FAST).fit_predict(X)
    second = PetTurtle(3, gamma=10.0, alpha=1.0, **FAST).fit_predict(X.astype(np.float16))
    again = PetTurtle(3, gamma=10.0, alpha=1.0, **FAST).fit_predict(X)
    np.testing.assert_array_equal(first, again)
    assert hungarian_accuracy(first, second) > 0.97


def test_copy_false_reuses_a_float32_matrix_and_spares_other_inputs():
    X, _ = power_law_blobs([50, 30, 20], dim=24, seed=6)
    expected = PetTurtle(3, gamma=10.0, alpha=1.0, n_components=8, **FAST).fit_predict(X)
    scratch = X.copy()
    labels = PetTurtle(3, gamma=10.0, alpha=1.0, n_components=8, copy=False, **FAST).fit_predict(scratch)
    np.testing.assert_array_equal(labels, expected)
    assert not np.array_equal(scratch, X)  # its memory held the reduced features
    as_float64 = X.astype(np.float64)
    PetTurtle(3, gamma=10.0, alpha=1.0, n_components=8, copy=False, **FAST).fit(as_float64)
    np.testing.assert_array_equal(as_float64, X.astype(np.float64))  # a converted copy was used


def test_several_representation_spaces():
    X, y = power_law_blobs([60, 40, 30], seed=4)
    other = X @ np.random.default_rng(0).normal(size=(16, 8)).astype(np.float32)
    model = PetTurtle(3, gamma=10.0, alpha=0.5, **FAST).fit([X, other])
    assert len(model.encoders_.directions) == 2
    assert hungarian_accuracy(y, model.labels_) > 0.95
    with pytest.raises(ValueError, match="feature counts"):
        model.predict(X)


@pytest.mark.parametrize(
    "X, n_clusters, message",
    [
        (np.zeros((0, 4)), 2, "empty"),
        (np.zeros(10), 2, "2-D"),
        (np.zeros((3, 4)), 5, "larger than the number of samples"),
        (np.ones((10, 4)), 1, "at least 2"),
        (np.where(np.eye(10, 4) > 0, np.nan, 1.0), 2, "NaN or inf"),
        (np.where(np.eye(10, 4) > 0, np.inf, 1.0), 2, "NaN or inf"),
        ([np.ones((10, 4)), np.ones((9, 4))], 2, "same number of samples"),
        ([], 2, "empty list"),
    ],
)
def test_bad_input_raises_a_clear_value_error(X, n_clusters, message):
    with pytest.raises(ValueError, match=message):
        PetTurtle(n_clusters, **FAST).fit(X)


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(method="dbscan"), "method"),
        (dict(gamma=-1.0), "gamma"),
        (dict(alpha="big"), "alpha"),
        (dict(n_iter=0), "n_iter"),
        (dict(prior_order="random"), "prior_order"),
        (dict(device="tpu9"), "device"),
    ],
)
def test_bad_parameters_raise(params, message):
    X, _ = power_law_blobs([20, 20])
    with pytest.raises(ValueError, match=message):
        PetTurtle(2, **{**FAST, **params}).fit(X)


def test_pet_turtle_beats_turtle_on_imbalanced_clusters():
    sizes = [600, 150, 70, 40]  # power law, alpha about 2
    X, y = power_law_blobs(sizes, dim=12, spread=2.5, seed=1)
    pet = PetTurtle(4, gamma=10.0, alpha=2.0, n_iter=150, random_state=0, device="cpu").fit(X)
    turtle = PetTurtle(4, method="turtle", gamma=10.0, n_iter=150, random_state=0, device="cpu").fit(X)
    pet_score, turtle_score = hungarian_accuracy(y, pet.labels_), hungarian_accuracy(y, turtle.labels_)
    assert pet_score > 0.9
    assert pet_score > turtle_score + 0.15
    assert normalized_mutual_info(y, pet.labels_) > normalized_mutual_info(y, turtle.labels_)


def test_end_to_end_on_real_cifar10_embeddings():
    if not SHARED_EMBEDDINGS.exists():
        pytest.skip(f"shared CIFAR-10 embeddings not found at {SHARED_EMBEDDINGS} (a fresh clone has no ../shared)")
    data = np.load(SHARED_EMBEDDINGS)
    keep = np.concatenate([np.where(data["y"] == c)[0][: int(300 * (c + 1) ** -1.0)] for c in range(10)])
    X, y = data["X"][keep], data["y"][keep]
    model = PetTurtle(10, gamma=[5.0, 25.0], alpha=[0.5, 1.0], n_iter=100, random_state=0, device="cpu").fit(X)
    kmeans = KMeans(10, n_init=3, random_state=0, device="cpu").fit(X)
    assert hungarian_accuracy(y, model.labels_) > 0.3
    assert hungarian_accuracy(y, kmeans.labels_) > 0.25
    assert (model.cluster_sizes_ > 0).sum() >= 8


def test_kmeans_and_linear_probe_on_blobs():
    X, y = power_law_blobs([100, 60, 40], seed=2)
    km = KMeans(3, n_init=3, random_state=0, device="cpu").fit(X)
    assert hungarian_accuracy(y, km.labels_) == 1.0
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    np.testing.assert_array_equal(KMeans(3, n_init=3, random_state=0, device="cpu").fit_predict(X), km.labels_)
    probe = LinearProbe(device="cpu").fit(X, y)
    assert (probe.predict(X) == y).mean() == 1.0


def test_metrics_match_scikit_learn_and_handle_permutations():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 5, 300)
    y_pred = np.where(rng.random(300) < 0.7, (y_true + 2) % 5, rng.integers(0, 6, 300))
    assert normalized_mutual_info(y_true, y_pred) == pytest.approx(sklearn_metrics.normalized_mutual_info_score(y_true, y_pred))
    assert adjusted_rand_index(y_true, y_pred) == pytest.approx(sklearn_metrics.adjusted_rand_score(y_true, y_pred))
    permuted = (y_true + 3) % 5
    assert hungarian_accuracy(y_true, permuted) == 1.0
    assert mean_per_class_accuracy(y_true, permuted) == 1.0
    report = evaluate_clustering(y_true, permuted)
    assert report["mapping"] == {(c + 3) % 5: c for c in range(5)}
    assert np.trace(np.array(report["confusion_matrix"])[:, [3, 4, 0, 1, 2]]) == 300


def test_collapsed_labeling_wins_accuracy_but_not_mean_per_class_accuracy():
    y_true = np.repeat(np.arange(3), [90, 6, 4])
    collapsed = np.zeros(100, dtype=int)
    assert hungarian_accuracy(y_true, collapsed) == 0.9
    assert mean_per_class_accuracy(y_true, collapsed) == pytest.approx(1 / 3)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu_accuracy():
    X, y = power_law_blobs([300, 100, 50], seed=5)
    cpu = PetTurtle(3, gamma=10.0, alpha=1.0, n_iter=100, random_state=0, device="cpu").fit(X)
    gpu = PetTurtle(3, gamma=10.0, alpha=1.0, n_iter=100, random_state=0, device="cuda").fit(X)
    assert abs(hungarian_accuracy(y, cpu.labels_) - hungarian_accuracy(y, gpu.labels_)) < 0.02


def test_selection_passes_over_labelings_with_empty_clusters():
    from petturtle.estimator import _select

    configs = [(1.0, 0.5), (5.0, 0.5), (1.0, 2.0), (5.0, 2.0)]
    scores = [0.80, 0.82, 0.95, 0.90]
    assert _select(configs, scores, n_empty=[0, 0, 3, 0]) == 3
    assert _select(configs, scores, n_empty=[0, 0, 3, 2]) == 1
    assert _select(configs, scores, n_empty=[0, 0, 0, 0]) == 2
    assert _select(configs, scores, n_empty=[1, 1, 1, 1]) == 2
