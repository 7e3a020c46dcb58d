"""``compute_clusters`` and the helpers that load, list, rename and delete clustering runs.

A run is all or nothing: every check and the fit happen before the dataset is touched; then the
labels are written in batches and the run is registered. A failed call leaves the dataset as it
was (except embeddings it computed itself when ``embeddings`` names a model).
"""

import logging
import math
import re

import fiftyone as fo
import fiftyone.core.runs as fors
import numpy as np
import torch

from ..baselines import KMeans
from ..device import resolve_device
from ..estimator import PetTurtle
from ..priors import fit_power_law_alpha
from ..validation import check_n_clusters
from .embeddings import compute_embeddings
from .encoders import is_model_name
from .runs import Clustering, ClusteringConfig, ClusteringResults, evaluate_against, ground_truth_path
from .progress import StageProgress
from .samples import BATCH_SIZE, check_image_collection, check_not_empty, read_vectors

logger = logging.getLogger(__name__)

METHODS = ("pet-turtle", "turtle", "kmeans")

__all__ = [
    "ClusteringConfig",
    "ClusteringResults",
    "compute_clusters",
    "delete_clusters",
    "list_cluster_runs",
    "load_clusters",
    "rename_clusters",
]


def compute_clusters(
    samples,
    n_clusters,
    embeddings="clip_embeddings",
    method="pet-turtle",
    gamma="auto",
    alpha="auto",
    label_field="pet_turtle",
    run_key=None,
    gt_field=None,
    device="auto",
    random_state=None,
    overwrite=False,
    progress=None,
    engine_params=None,
):
    """Clusters the images of ``samples`` and stores one ``fo.Classification`` per sample.

    Parameters
    ----------
    samples : fiftyone Dataset or DatasetView of images
    n_clusters : int
    embeddings : str or list of str
        A vector field, several (one representation space each), or a model name
        ("efficientnet-lite0", an open_clip architecture), embedded first into
        ``<model>_embeddings``. Samples of the view without a vector are skipped (counted in
        ``results.n_skipped``) and get no label.
    method : {"pet-turtle", "turtle", "kmeans"}
    gamma, alpha : "auto", float or list of floats (ignored by K-means)
    label_field : str
        Field receiving the labels ``cluster_00``, ``cluster_01``, ... ranked by cluster size,
        largest first. Confidence is the sample's probability for its cluster; for K-means it is
        ``softmax(-d^2 / T)`` over the squared distances d^2 to the (cosine) centers, with T the
        mean squared distance to the nearest center.
    run_key : str or None
        Key of the run in ``dataset.list_runs()``; defaults to ``label_field``.
    gt_field : str or None
        Ground truth (Classification or class-name field) to evaluate against.
    overwrite : bool
        Replace a run ``run_key`` and an existing ``label_field``.
    progress : callable or None
        ``progress(stage, done, total)`` with stages "embed", "read", "train", "select", "write".
    engine_params : dict or None
        Extra ``PetTurtle`` (or ``KMeans``) parameters, e.g. ``{"n_iter": 30}``.

    Returns a ``ClusteringResults``.
    """
    check_not_empty(samples)  # first: an empty dataset has no media type yet
    check_image_collection(samples)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if engine_params is not None and not isinstance(engine_params, dict):
        raise ValueError(f"engine_params must be a dict of estimator parameters, got {engine_params!r}")
    run_key = label_field if run_key is None else run_key
    dataset = samples._root_dataset
    plan = _embedding_plan(samples, embeddings)
    fields = [field for field, _ in plan]
    _check_targets(dataset, label_field, run_key, fields, overwrite)
    if gt_field is not None:
        ground_truth_path(samples, gt_field)
    check_n_clusters(n_clusters, len(samples))

    for field, model in plan:
        if model is not None:
            compute_embeddings(
                samples, model=model, embeddings_field=field, device=device, progress=progress,
            )
    # One terminal bar per stage (read, train, select, write); the callback sees every report.
    with StageProgress(progress) as report:
        ids, spaces = _read_spaces(samples, fields, report)
        if len(ids) < n_clusters:
            raise ValueError(
                f"only {len(ids)} of the {len(samples)} samples have embeddings in {fields}, fewer than "
                f"n_clusters={n_clusters}: embed them first with petturtle.compute_embeddings(...) "
                "or ask for fewer clusters"
            )
        labels, confidences, fit_info = _fit(
            method, spaces, n_clusters, gamma, alpha, random_state, device, engine_params, report
        )
        del spaces
        ranked_labels, names, sizes = _rank_by_size(labels, n_clusters)
        config = ClusteringConfig(
            method=method, n_clusters=n_clusters, embeddings=fields, label_field=label_field,
            gamma=gamma, alpha=alpha, random_state=random_state,
            engine_params=dict(engine_params or {}), gt_field=gt_field,
        )
        results = ClusteringResults(
            samples, config, run_key,
            cluster_names=names, cluster_sizes=sizes, n_samples=len(ids),
            n_skipped=len(samples) - len(ids),
            fitted_alpha=fit_power_law_alpha(sizes),
            **fit_info,
        )
        if gt_field is not None:
            results.evaluation = evaluate_against(samples, gt_field, ids, [names[i] for i in ranked_labels])

        _write_labels_replacing(
            dataset, label_field, run_key, overwrite, ids, ranked_labels, confidences, names, report
        )
        samples.register_run(run_key, config, results=results)
    if results.n_skipped:
        logger.warning("%d samples without embeddings were skipped and got no label", results.n_skipped)
    return results


def load_clusters(dataset, run_key):
    """The ``ClusteringResults`` of the run ``run_key``."""
    _check_is_clustering(dataset, run_key)
    return dataset.load_run_results(run_key)


def list_cluster_runs(dataset):
    """Keys of the clustering runs on ``dataset`` (other runs are left out), sorted."""
    return fors.Run.list_runs(dataset, type=Clustering)


def rename_clusters(dataset, run_key, new_run_key, new_label_field=None):
    """Renames the run ``run_key`` to ``new_run_key`` and its label field to ``new_label_field``
    (default: ``new_run_key``; pass the current label field to keep it).
    """
    _check_is_clustering(dataset, run_key)
    _check_run_key(new_run_key)
    new_label_field = new_run_key if new_label_field is None else new_label_field
    if new_run_key != run_key and dataset.has_run(new_run_key):
        raise ValueError(f"a run {new_run_key!r} already exists: choose another new_run_key")
    label_field = dataset.get_run_info(run_key).config.label_field
    if new_label_field != label_field and dataset.has_sample_field(new_label_field):
        raise ValueError(f"field {new_label_field!r} already exists: choose another new_label_field")
    if new_run_key != run_key:
        dataset.rename_run(run_key, new_run_key)  # Clustering.rename may move the label field
    results = dataset.load_run_results(new_run_key)
    if results.config.label_field != new_label_field:
        dataset.rename_sample_field(results.config.label_field, new_label_field)
        results.config.label_field = new_label_field
        results.save_config()
    return results


def delete_clusters(dataset, run_key):
    """Deletes the run ``run_key`` and its label field."""
    _check_is_clustering(dataset, run_key)
    dataset.delete_run(run_key)


def _check_is_clustering(dataset, run_key):
    keys = list_cluster_runs(dataset)
    if run_key not in keys:
        raise ValueError(f"dataset {dataset.name!r} has no clustering run {run_key!r}; its clustering runs: {keys}")


def _check_run_key(run_key):
    if not isinstance(run_key, str) or not run_key.isidentifier():
        raise ValueError(f"run keys must be valid Python identifiers (e.g. 'pet_turtle'), got {run_key!r}")


def model_embeddings_field(model):
    """Where ``compute_clusters`` stores the embeddings of a model it was given by name."""
    return re.sub(r"\W+", "_", model).strip("_").lower() + "_embeddings"


def _embedding_plan(samples, embeddings):
    """``[(field, model or None)]``: the vector fields to read and the models to embed with first."""
    names = [embeddings] if isinstance(embeddings, str) else list(embeddings)
    if not names:
        raise ValueError("embeddings is an empty list: give a vector field, several, or a model name")
    plan = []
    for name in names:
        field = samples.get_field(name) if isinstance(name, str) else None
        if field is not None:
            if not isinstance(field, (fo.VectorField, fo.ListField)):
                raise ValueError(f"field {name!r} is a {type(field).__name__}, not a vector field of embeddings")
            plan.append((name, None))
        elif isinstance(name, str) and is_model_name(name):
            plan.append((model_embeddings_field(name), name))
        else:
            raise ValueError(
                f"{name!r} is neither a field of this collection nor a model name: compute embeddings "
                "with petturtle.compute_embeddings(samples, model=..., embeddings_field=...) or pass "
                "a model name such as 'efficientnet-lite0' or 'ViT-B-32'"
            )
    return plan


def _check_targets(dataset, label_field, run_key, fields, overwrite):
    if not isinstance(label_field, str) or not label_field.isidentifier() or label_field.startswith("_"):
        raise ValueError(f"label_field must be a plain field name such as 'pet_turtle', got {label_field!r}")
    _check_run_key(run_key)
    if label_field in fields:
        raise ValueError(f"label_field {label_field!r} is an embeddings field: choose another label_field")
    if dataset.has_run(run_key):
        if not overwrite:
            raise ValueError(
                f"a run {run_key!r} already exists: pass overwrite=True to replace it, choose another "
                f"run_key, or delete it with petturtle.delete_clusters(dataset, {run_key!r})"
            )
        if run_key not in list_cluster_runs(dataset):
            raise ValueError(f"run {run_key!r} is not a clustering run: choose another run_key")
    if dataset.has_sample_field(label_field):
        if not overwrite:
            raise ValueError(
                f"field {label_field!r} already exists: pass overwrite=True to replace it or choose "
                "another label_field"
            )
        replaced = dataset.get_run_info(run_key).config.label_field if dataset.has_run(run_key) else None
        if label_field != replaced:
            # overwrite replaces the labels of the run it replaces, never other data.
            owners = [k for k in list_cluster_runs(dataset) if dataset.get_run_info(k).config.label_field == label_field]
            way_out = f", or delete run {owners[0]!r} with petturtle.delete_clusters" if owners else ""
            raise ValueError(
                f"field {label_field!r} is not the label field of run {run_key!r}, so overwrite will not "
                f"replace it: choose another label_field{way_out}"
            )


def _read_spaces(samples, fields, progress):
    """Sample ids with a vector in every field, and one float32 matrix per field."""
    read = [read_vectors(samples, field, progress) for field in fields]
    ids = read[0][0]
    if any(other_ids != ids for other_ids, _ in read[1:]):
        common = set(ids).intersection(*(set(other_ids) for other_ids, _ in read[1:]))
        ids = [i for i in ids if i in common]
        spaces = []
        for field_ids, matrix in read:
            keep = np.fromiter((i in common for i in field_ids), dtype=bool, count=len(field_ids))
            order = {i: row for row, i in enumerate(np.asarray(field_ids)[keep])}
            spaces.append(matrix[keep][[order[i] for i in ids]])
        return ids, spaces
    return ids, [matrix for _, matrix in read]


def _fit(method, spaces, n_clusters, gamma, alpha, random_state, device, engine_params, progress):
    """Returns ``(labels, confidences, fit_info)`` where fit_info feeds ``ClusteringResults``."""
    if method == "kmeans":
        x = spaces[0] if len(spaces) == 1 else np.hstack([_l2_rows(s) for s in spaces])
        model = _estimator(KMeans, n_clusters, engine_params, random_state=random_state, device=device).fit(x)
        confidences = _kmeans_confidences(x, model, device)
        info = {"gamma": None, "alpha": None, "prior": None, "selection": [], "history": []}
        return model.labels_, confidences, info
    model = _estimator(
        PetTurtle, n_clusters, engine_params, method=method, gamma=gamma, alpha=alpha,
        # The matrices were read for this call alone: the fit may reuse their memory.
        random_state=random_state, device=device, copy=False,
    ).fit(spaces[0] if len(spaces) == 1 else spaces, progress=progress)
    confidences = model.probabilities_[np.arange(len(model.labels_)), model.labels_]
    selection = [
        {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
        for row in model.selection_
    ]
    info = {
        "gamma": model.gamma_, "alpha": model.alpha_, "prior": model.prior_.tolist(),
        "selection": selection, "history": model.history_.tolist(),
    }
    return model.labels_, confidences, info


def _estimator(estimator_class, n_clusters, engine_params, **settings):
    """Builds the estimator; an ``engine_params`` key it does not take is a ValueError naming those it does."""
    try:
        return estimator_class(n_clusters, **settings, **dict(engine_params or {}))
    except TypeError as error:
        code = estimator_class.__init__.__code__
        accepted = sorted(set(code.co_varnames[2 : code.co_argcount + code.co_kwonlyargcount]) - set(settings))
        raise ValueError(
            f"engine_params {sorted(engine_params)} do not all fit {estimator_class.__name__} "
            f"({error}); it accepts {accepted}"
        ) from error


def _l2_rows(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _kmeans_confidences(x, model, device):
    """``softmax(-d^2 / T)`` at each sample's own center, T = mean squared distance to the nearest center."""
    device = resolve_device(device)
    centers = torch.as_tensor(model.cluster_centers_, device=device)
    temperature = max(model.inertia_ / len(x), 1e-12)
    confidences = np.empty(len(x), dtype=np.float32)
    for start in range(0, len(x), BATCH_SIZE):
        rows = torch.as_tensor(x[start : start + BATCH_SIZE], dtype=torch.float32, device=device)
        if model.normalize:
            rows = rows / rows.norm(dim=1, keepdim=True).clamp_min(1e-12)
        squared = torch.cdist(rows, centers).square()
        own = torch.as_tensor(model.labels_[start : start + BATCH_SIZE], device=device)
        probabilities = torch.softmax(-squared / temperature, dim=1)
        confidences[start : start + len(rows)] = probabilities.gather(1, own[:, None])[:, 0].cpu().numpy()
    return confidences


def _rank_by_size(labels, n_clusters):
    """Renumbers clusters largest first; returns the new labels, the names and the sizes."""
    sizes = np.bincount(labels, minlength=n_clusters)
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty(n_clusters, dtype=np.int64)
    rank[order] = np.arange(n_clusters)
    width = max(2, len(str(n_clusters - 1)))
    names = [f"cluster_{r:0{width}d}" for r in range(n_clusters)]
    return rank[labels], names, sizes[order].tolist()


def _clear_previous(dataset, label_field, run_key):
    """Deletes the run being replaced and its labels (``_check_targets`` made sure they are its own)."""
    if dataset.has_run(run_key):
        dataset.delete_run(run_key)  # its cleanup deletes its label field
    if dataset.has_sample_field(label_field):  # in case that cleanup failed (FiftyOne only logs it)
        dataset.delete_sample_field(label_field)


def _write_labels_replacing(dataset, label_field, run_key, overwrite, ids, ranked_labels, confidences, names, progress):
    """Writes the labels; with ``overwrite`` they go to a scratch field first, and the run they
    replace is deleted only once they are all written, so a failed write keeps the old run."""
    if not overwrite:
        _write_labels(dataset, label_field, ids, ranked_labels, confidences, names, progress)
        return
    scratch = f"{label_field}_petturtle_pending"
    if dataset.has_sample_field(scratch):  # left by a process killed mid-write
        dataset.delete_sample_field(scratch)
    try:
        _write_labels(dataset, scratch, ids, ranked_labels, confidences, names, progress)
    except BaseException:
        if dataset.has_sample_field(scratch):
            dataset.delete_sample_field(scratch)
        raise
    _clear_previous(dataset, label_field, run_key)
    dataset.rename_sample_field(scratch, label_field)


def _write_labels(dataset, label_field, ids, ranked_labels, confidences, names, progress):
    if progress is not None:
        progress("write", 0, len(ids))
    for start in range(0, len(ids), BATCH_SIZE):
        stop = start + BATCH_SIZE
        values = {
            sample_id: fo.Classification(label=names[label], confidence=float(confidence))
            for sample_id, label, confidence in zip(ids[start:stop], ranked_labels[start:stop], confidences[start:stop])
        }
        dataset.set_values(label_field, values, key_field="id")
        if progress is not None:
            progress("write", min(stop, len(ids)), len(ids))
