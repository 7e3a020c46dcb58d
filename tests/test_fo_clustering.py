"""compute_clusters on synthetic vectors in a real database: labels, runs, evaluation, bad input."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import fiftyone as fo
import petturtle
from conftest import FAST_ENGINE

N_CLASSES = 5
FAST = {"gamma": 10.0, "alpha": 1.0, "engine_params": FAST_ENGINE, "random_state": 0}


def _blobs(n_per_class=(80, 40, 27, 20, 16), dim=24, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 1, (len(n_per_class), dim)) * 8
    X = np.concatenate([c + rng.normal(0, 1, (n, dim)) for c, n in zip(centers, n_per_class)])
    y = np.repeat(np.arange(len(n_per_class)), n_per_class)
    return X.astype(np.float32), y


def _vector_dataset(make_dataset, X, y, field="emb"):
    import fiftyone as fo

    dataset = make_dataset()
    dataset.add_samples([
        fo.Sample(filepath=f"/no/such/dir/{i}.jpg", gt=f"class_{c}", **{field: x})
        for i, (x, c) in enumerate(zip(X, y))
    ])
    return dataset


@pytest.fixture
def blobs_dataset(make_dataset):
    X, y = _blobs()
    return _vector_dataset(make_dataset, X, y)


def _snapshot(dataset):
    """Everything a failed call must leave as it was."""
    dataset.reload()
    schema = {name: type(field).__name__ for name, field in dataset.get_field_schema().items()}
    values = {name: [repr(v) for v in dataset.values(name)] for name in schema}
    return schema, values, dataset.list_runs()


def test_pet_turtle_labels_run_and_evaluation(blobs_dataset):
    stages = set()
    results = petturtle.compute_clusters(
        blobs_dataset, N_CLASSES, embeddings="emb", gt_field="gt",
        progress=lambda stage, done, total: stages.add(stage), **FAST,
    )
    assert blobs_dataset.list_runs() == ["pet_turtle"] == petturtle.list_cluster_runs(blobs_dataset)
    labels = blobs_dataset.values("pet_turtle.label")
    counts = [labels.count(name) for name in results.cluster_names]
    assert results.cluster_names == [f"cluster_{i:02d}" for i in range(N_CLASSES)]
    assert counts == results.cluster_sizes == sorted(counts, reverse=True)
    confidences = np.array(blobs_dataset.values("pet_turtle.confidence"))
    assert ((confidences > 0) & (confidences <= 1 + 1e-6)).all()
    assert results.evaluation["accuracy"] > 0.9 and results.evaluation["n_evaluated"] == 183
    assert {"read", "train", "write"} <= stages
    summary = json.loads(json.dumps(results.summary(), allow_nan=False))
    assert summary["n_samples"] == 183 and summary["method"] == "pet-turtle"
    assert summary["gamma"] == 10.0 and summary["alpha"] == 1.0
    assert len(summary["fitted_prior"]) == N_CLASSES and abs(sum(summary["fitted_prior"]) - 1) < 1e-9
    assert len(summary["history"]) == FAST_ENGINE["n_iter"]


def test_terminal_bars_follow_each_stage(blobs_dataset, capfd, monkeypatch):
    monkeypatch.setattr(fo.config, "show_progress_bars", True)
    petturtle.compute_clusters(blobs_dataset, N_CLASSES, embeddings="emb", **FAST)
    out = capfd.readouterr().out
    # Each bar draws at least its first state (later draws are throttled by time).
    assert f"/{FAST_ENGINE['n_iter']} [" in out and "steps/s" in out  # training
    assert out.count("/183 [") >= 2 and "samples/s" in out  # reading, then writing


@pytest.mark.parametrize("method", ["turtle", "kmeans"])
def test_other_methods(blobs_dataset, method):
    settings = FAST if method != "kmeans" else {"random_state": 0}
    results = petturtle.compute_clusters(
        blobs_dataset, N_CLASSES, embeddings="emb", method=method, label_field=method, **settings
    )
    confidences = np.array(blobs_dataset.values(f"{results.label_field}.confidence"))
    assert ((confidences > 0) & (confidences <= 1 + 1e-6)).all()
    # TURTLE's entropy term pulls towards equal sizes, so these imbalanced blobs cost it some accuracy.
    assert results.evaluate("gt")["accuracy"] > 0.6
    assert sum(results.cluster_sizes) == 183


def test_view_only_and_samples_without_embeddings_are_skipped(blobs_dataset):
    from fiftyone import ViewField as F

    without = blobs_dataset.take(10, seed=1)
    without.set_values("emb", [None] * 10)
    view = blobs_dataset.match(F("gt") != "class_4")
    results = petturtle.compute_clusters(view, 4, embeddings="emb", **FAST)
    skipped = len(set(without.values("id")) & set(view.values("id")))
    assert results.n_skipped == skipped and results.n_samples == len(view) - skipped
    assert blobs_dataset.match(F("gt") == "class_4").count("pet_turtle") == 0
    assert blobs_dataset.count("pet_turtle") == results.n_samples
    assert len(petturtle.load_clusters(blobs_dataset, "pet_turtle").samples) == len(view)


def test_several_embedding_fields(make_dataset):
    X, y = _blobs()
    dataset = _vector_dataset(make_dataset, X, y)
    dataset.set_values("emb_b", list(_blobs(dim=8, seed=3)[0]))
    results = petturtle.compute_clusters(dataset, N_CLASSES, embeddings=["emb", "emb_b"], **FAST)
    assert results.config.embeddings == ["emb", "emb_b"] and results.n_samples == len(X)


def test_run_loads_in_a_fresh_process_with_later_evaluation(blobs_dataset):
    results = petturtle.compute_clusters(blobs_dataset, N_CLASSES, embeddings="emb", run_key="first", **FAST)
    assert results.evaluation is None
    results.evaluate("gt")
    code = (
        "import json, sys, fiftyone as fo, petturtle\n"
        "r = petturtle.load_clusters(fo.load_dataset(sys.argv[1]), 'first')\n"
        "print(json.dumps([type(r).__name__, r.summary()]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, blobs_dataset.name], env=os.environ, capture_output=True, text=True, timeout=120
    )
    kind, summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert kind == "ClusteringResults"
    assert summary["cluster_sizes"] == results.cluster_sizes and summary["label_field"] == "pet_turtle"
    assert summary["evaluation"]["accuracy"] == results.evaluation["accuracy"]


def test_rename_and_delete(blobs_dataset):
    petturtle.compute_clusters(blobs_dataset, N_CLASSES, embeddings="emb", **FAST)
    labels = blobs_dataset.values("pet_turtle.label")
    petturtle.rename_clusters(blobs_dataset, "pet_turtle", "renamed")
    assert blobs_dataset.list_runs() == ["renamed"]
    assert not blobs_dataset.has_sample_field("pet_turtle")
    assert blobs_dataset.values("renamed.label") == labels
    assert petturtle.load_clusters(blobs_dataset, "renamed").label_field == "renamed"
    petturtle.rename_clusters(blobs_dataset, "renamed", "again", new_label_field="custom")
    assert blobs_dataset.get_run_info("again").config.label_field == "custom"
    assert blobs_dataset.values("custom.label") == labels
    petturtle.rename_clusters(blobs_dataset, "again", "custom")
    petturtle.rename_clusters(blobs_dataset, "custom", "kept", new_label_field="custom")  # keep the field
    assert blobs_dataset.get_run_info("kept").config.label_field == "custom"
    assert blobs_dataset.values("custom.label") == labels
    petturtle.rename_clusters(blobs_dataset, "kept", "again", new_label_field="custom")
    petturtle.delete_clusters(blobs_dataset, "again")
    assert blobs_dataset.list_runs() == [] and not blobs_dataset.has_sample_field("custom")
    with pytest.raises(ValueError, match="no clustering run 'again'"):
        petturtle.load_clusters(blobs_dataset, "again")


def test_overwrite_replaces_run_and_labels(blobs_dataset):
    first = petturtle.compute_clusters(blobs_dataset, N_CLASSES, embeddings="emb", **FAST)
    second = petturtle.compute_clusters(blobs_dataset, 3, embeddings="emb", method="kmeans", overwrite=True)
    assert blobs_dataset.list_runs() == ["pet_turtle"] and first is not second
    assert set(blobs_dataset.values("pet_turtle.label")) == {"cluster_00", "cluster_01", "cluster_02"}
    assert petturtle.load_clusters(blobs_dataset, "pet_turtle").method == "kmeans"


def test_fiftyone_rename_run_moves_a_label_field_named_after_the_key(blobs_dataset):
    petturtle.compute_clusters(blobs_dataset, N_CLASSES, embeddings="emb", **FAST)
    labels = blobs_dataset.values("pet_turtle.label")
    blobs_dataset.rename_run("pet_turtle", "renamed")
    assert blobs_dataset.values("renamed.label") == labels and not blobs_dataset.has_sample_field("pet_turtle")
    assert petturtle.load_clusters(blobs_dataset, "renamed").label_field == "renamed"
    # A field named otherwise stays where it is.
    petturtle.rename_clusters(blobs_dataset, "renamed", "renamed2", new_label_field="custom")
    blobs_dataset.rename_run("renamed2", "renamed3")
    assert blobs_dataset.get_run_info("renamed3").config.label_field == "custom"
    assert blobs_dataset.values("custom.label") == labels


def test_a_failed_overwrite_keeps_the_old_run(blobs_dataset, monkeypatch):
    from petturtle.fo import clustering

    petturtle.compute_clusters(blobs_dataset, N_CLASSES, embeddings="emb", **FAST)
    before = _snapshot(blobs_dataset)

    def write_then_fail(dataset, field, *args):
        clustering._write_labels.__wrapped__(dataset, field, *args)
        raise RuntimeError("the database went away")

    write_then_fail.__wrapped__ = clustering._write_labels
    monkeypatch.setattr(clustering, "_write_labels", write_then_fail)
    with pytest.raises(RuntimeError, match="went away"):
        petturtle.compute_clusters(blobs_dataset, 3, embeddings="emb", method="kmeans", overwrite=True)
    after = _snapshot(blobs_dataset)
    # The scratch labels were written and removed, so only the modification times moved.
    for snapshot in (before, after):
        del snapshot[1]["last_modified_at"]
    assert after == before


def _different_dimensions(dataset):
    first = dataset.first()
    first["emb"] = np.zeros(7, dtype=np.float32)
    first.save()


def _nan_row(dataset):
    first = dataset.first()
    first["emb"] = np.full(24, np.nan, dtype=np.float32)
    first.save()


def _three_embedded(dataset):
    dataset.skip(3).set_field("emb", None).save()


def _other_run_owns_field(dataset):
    petturtle.compute_clusters(dataset, N_CLASSES, embeddings="emb", run_key="owner", label_field="taken", **FAST)


def _existing_run(dataset):
    petturtle.compute_clusters(dataset, N_CLASSES, embeddings="emb", **FAST)


BAD_INPUTS = {
    "empty view": (None, lambda d: d.limit(0), {}, "no samples"),
    "unknown embeddings": (None, None, {"embeddings": "nope"}, "neither a field"),
    "non-vector embeddings": (None, None, {"embeddings": "gt"}, "not a vector field"),
    "different dimensions": (_different_dimensions, None, {}, "different lengths"),
    "nan embeddings": (_nan_row, None, {}, "NaN"),
    "too many clusters": (None, lambda d: d.limit(4), {}, "larger than the number of samples"),
    "no sample embedded": (None, lambda d: d.exists("emb", False), {}, "no samples"),
    "fewer embedded than clusters": (_three_embedded, None, {}, "only 3 of the 183 samples have embeddings"),
    "existing label field": (None, None, {"label_field": "gt"}, "already exists"),
    "existing run": (_existing_run, None, {}, "already exists"),
    "overwrite of other data": (None, None, {"label_field": "gt", "overwrite": True}, "will not replace"),
    "bad label field": (None, None, {"label_field": "a.b"}, "plain field name"),
    "field of another run": (_other_run_owns_field, None, {"label_field": "taken", "overwrite": True}, "delete run 'owner'"),
    "bad method": (None, None, {"method": "dbscan"}, "method must be"),
    "bad run key": (None, None, {"run_key": "not a key"}, "identifiers"),
    "missing ground truth": (None, None, {"gt_field": "nope"}, "no ground-truth field"),
    "bad engine parameter": (None, None, {"engine_params": {"n_iter": 0}}, "n_iter"),
    "unknown engine parameter": (None, None, {"engine_params": {"n_iters": 5}}, "accepts"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_leaves_dataset_unchanged(blobs_dataset, case):
    prepare, make_view, kwargs, message = BAD_INPUTS[case]
    if prepare is not None:
        prepare(blobs_dataset)
    samples = make_view(blobs_dataset) if make_view else blobs_dataset
    before = _snapshot(blobs_dataset)
    arguments = {"embeddings": "emb", **FAST, **kwargs}
    with pytest.raises(ValueError, match=message):
        petturtle.compute_clusters(samples, N_CLASSES, **arguments)
    assert _snapshot(blobs_dataset) == before


def test_a_new_empty_dataset_is_refused_as_empty(make_dataset):
    dataset = make_dataset()
    before = _snapshot(dataset)
    with pytest.raises(ValueError, match="no samples"):
        petturtle.compute_clusters(dataset, 2)
    with pytest.raises(ValueError, match="no samples"):
        petturtle.compute_embeddings(dataset)
    assert _snapshot(dataset) == before


def test_non_image_dataset_is_refused(make_dataset):
    import fiftyone as fo

    dataset = make_dataset()
    dataset.add_sample(fo.Sample(filepath="/no/such/clip.mp4", emb=np.zeros(4)))
    before = _snapshot(dataset)
    with pytest.raises(ValueError, match="image datasets"):
        petturtle.compute_clusters(dataset, 2, embeddings="emb")
    assert _snapshot(dataset) == before
