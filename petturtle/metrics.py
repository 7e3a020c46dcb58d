"""External clustering metrics against ground-truth classes (numpy + scipy only)."""

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.special import comb


def _as_label_arrays(y_true, y_pred):
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must be 1-D and of the same length, got {y_true.shape} and {y_pred.shape}"
        )
    if y_true.size == 0:
        raise ValueError("y_true and y_pred are empty")
    return y_true, y_pred


def confusion_matrix(y_true, y_pred):
    """Counts (n_classes, n_clusters) with the sorted unique values of each as row/column keys."""
    y_true, y_pred = _as_label_arrays(y_true, y_pred)
    classes, true_index = np.unique(y_true, return_inverse=True)
    clusters, pred_index = np.unique(y_pred, return_inverse=True)
    counts = np.zeros((classes.size, clusters.size), dtype=np.int64)
    np.add.at(counts, (true_index, pred_index), 1)
    return counts, classes, clusters


def cluster_to_class_mapping(y_true, y_pred):
    """The one-to-one cluster -> class assignment maximizing matches (Hungarian method).

    Returns a dict; clusters left over when there are more clusters than classes map to None.
    """
    counts, classes, clusters = confusion_matrix(y_true, y_pred)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    mapping = {cluster: None for cluster in clusters.tolist()}
    for r, c in zip(rows, cols):
        mapping[clusters[c].item()] = classes[r].item()
    return mapping


def _mapped_predictions(y_true, y_pred):
    mapping = cluster_to_class_mapping(y_true, y_pred)
    return np.array([mapping[p] for p in y_pred.tolist()], dtype=object)


def hungarian_accuracy(y_true, y_pred):
    """Fraction of samples whose cluster maps to their class under the best one-to-one mapping."""
    y_true, y_pred = _as_label_arrays(y_true, y_pred)
    counts, _, _ = confusion_matrix(y_true, y_pred)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / y_true.size)


def mean_per_class_accuracy(y_true, y_pred):
    """Recall averaged over the true classes, under the Hungarian mapping."""
    y_true, y_pred = _as_label_arrays(y_true, y_pred)
    mapped = _mapped_predictions(y_true, y_pred)
    recalls = [np.mean(mapped[y_true == c] == c) for c in np.unique(y_true).tolist()]
    return float(np.mean(recalls))


def _entropy(counts):
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def normalized_mutual_info(y_true, y_pred):
    """NMI with the arithmetic-mean normalization (scikit-learn's default)."""
    counts, _, _ = confusion_matrix(y_true, y_pred)
    n = counts.sum()
    h_true, h_pred = _entropy(counts.sum(1)), _entropy(counts.sum(0))
    if h_true == 0 or h_pred == 0:
        return 1.0 if h_true == h_pred else 0.0
    joint = counts[counts > 0] / n
    outer = np.outer(counts.sum(1), counts.sum(0))[counts > 0] / n**2
    mutual_info = float((joint * np.log(joint / outer)).sum())
    return float(np.clip(mutual_info / ((h_true + h_pred) / 2), 0.0, 1.0))


def adjusted_rand_index(y_true, y_pred):
    """Adjusted Rand index (Hubert & Arabie)."""
    counts, _, _ = confusion_matrix(y_true, y_pred)
    n = counts.sum()
    pairs = comb(counts, 2).sum()
    pairs_true = comb(counts.sum(1), 2).sum()
    pairs_pred = comb(counts.sum(0), 2).sum()
    expected = pairs_true * pairs_pred / comb(n, 2)
    maximum = (pairs_true + pairs_pred) / 2
    if maximum == expected:
        return 1.0
    return float((pairs - expected) / (maximum - expected))


def evaluate_clustering(y_true, y_pred):
    """All metrics at once, as plain Python values ready to store."""
    counts, classes, clusters = confusion_matrix(y_true, y_pred)
    return {
        "accuracy": hungarian_accuracy(y_true, y_pred),
        "mean_per_class_accuracy": mean_per_class_accuracy(y_true, y_pred),
        "nmi": normalized_mutual_info(y_true, y_pred),
        "ari": adjusted_rand_index(y_true, y_pred),
        "confusion_matrix": counts.tolist(),
        "classes": classes.tolist(),
        "clusters": clusters.tolist(),
        "mapping": cluster_to_class_mapping(y_true, y_pred),
    }
