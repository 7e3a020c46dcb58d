"""The plugin's operators, run through FiftyOne's operator machinery against the real database."""

import os
import shutil
import subprocess
import sys

import pytest

import fiftyone as fo
import fiftyone.operators as foo
from fiftyone.operators.delegated import DelegatedOperationService
from fiftyone.operators.executor import ExecutionContext, ExecutionError, Executor
from fiftyone.plugins.context import build_plugin_contexts

import petturtle
from browser.data import CLASSES

PLUGIN = "@pet-turtle/pet-turtle"
OPERATORS = ["compute_embeddings", "cluster_samples", "get_cluster_run_info", "rename_cluster_run", "delete_cluster_run"]
PANELS = ["cluster_sizes"]
FAST = {"engine_params": {"n_iter": 30}, "random_state": 0}
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


pytestmark = pytest.mark.usefixtures("plugin_installed")


def uri(name):
    return f"{PLUGIN}/{name}"


def cluster_params(**overrides):
    params = dict(
        embeddings_source="field",
        embeddings_field="embeddings",
        n_clusters=len(CLASSES),
        method="pet-turtle",
        gamma_mode="value",
        gamma=10.0,
        alpha_mode="value",
        alpha=1.0,
        label_field="clusters",
        run_key="clusters",
        **FAST,
    )
    params.update(overrides)
    if params["method"] == "kmeans":
        del params["engine_params"]  # the schedule is PET-TURTLE's and TURTLE's
    return params


def form(operator_name, dataset, params, **request):
    """The operator's form as the App resolves it for ``params``, by property name."""
    ctx = ExecutionContext(request_params=dict(dataset_name=dataset.name, params=dict(params), **request))
    return foo.get_operator(uri(operator_name)).resolve_input(ctx).type.properties


def test_every_operator_and_panel_registers():
    contexts = {context.name: context for context in build_plugin_contexts()}
    assert PLUGIN in contexts, f"plugin not discovered under {fo.config.plugins_dir}"
    assert contexts[PLUGIN].errors == [], "\n".join(contexts[PLUGIN].errors)
    registered = {operator.uri for operator in foo.list_operators()}
    assert {uri(name) for name in OPERATORS + PANELS} <= registered


def test_plugin_uses_the_petturtle_beside_it_when_not_installed(tmp_path):
    """A clone in the plugins directory works without ``pip install``: the root __init__
    falls back to the ``petturtle`` folder beside it."""
    clone = tmp_path / "plugins" / "pet-turtle"
    clone.mkdir(parents=True)
    for name in ("__init__.py", "fiftyone.yml"):
        shutil.copy(os.path.join(REPO, name), clone / name)
    for name in ("plugin", "petturtle"):
        shutil.copytree(os.path.join(REPO, name), clone / name, ignore=shutil.ignore_patterns("__pycache__"))
    script = f"""
import sys
# hide the pip-installed (editable) petturtle
sys.meta_path = [f for f in sys.meta_path if "editable" not in getattr(f, "__module__", "") and "editable" not in repr(f)]
sys.path = [p for p in sys.path if p.rstrip("/") != {REPO!r}]
import fiftyone as fo
fo.config.plugins_dir = {str(clone.parent)!r}
from fiftyone.plugins.context import build_plugin_contexts
context = next(c for c in build_plugin_contexts() if c.name == {PLUGIN!r})
assert not context.errors, context.errors
import petturtle
print(petturtle.__file__)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=str(tmp_path), timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith(str(clone / "petturtle" / "__init__.py"))


def test_cluster_samples_writes_labels_and_stores_run(dataset):
    foo.execute_operator(uri("cluster_samples"), dataset=dataset, params=cluster_params(gt_field="ground_truth"))

    assert petturtle.list_cluster_runs(dataset) == ["clusters"]
    results = petturtle.load_clusters(dataset, "clusters")
    labels, confidences = dataset.values(["clusters.label", "clusters.confidence"])
    assert all(label in results.cluster_names for label in labels)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    counts = dataset.count_values("clusters.label")
    assert [counts.get(name, 0) for name in results.cluster_names] == results.cluster_sizes
    assert results.cluster_sizes == sorted(results.cluster_sizes, reverse=True)
    assert results.gamma == 10.0 and results.alpha == 1.0
    assert results.evaluation["gt_field"] == "ground_truth"
    assert results.evaluation["n_evaluated"] == len(dataset) and 0.0 < results.evaluation["accuracy"] <= 1.0


def test_cluster_samples_processes_only_the_selected_samples(dataset):
    selected = dataset.take(20, seed=0).values("id")
    foo.execute_operator(
        uri("cluster_samples"),
        dataset=dataset,
        selected=selected,
        view_target="SELECTED_SAMPLES",
        params=cluster_params(method="kmeans", n_clusters=2),
    )
    labeled = dataset.exists("clusters.label")
    assert sorted(labeled.values("id")) == sorted(selected)
    assert petturtle.load_clusters(dataset, "clusters").n_samples == 20


def test_cluster_samples_is_callable_from_python(dataset):
    cluster_samples = foo.get_operator(uri("cluster_samples"))
    results = cluster_samples(dataset, n_clusters=3, embeddings="embeddings", method="turtle", gamma=5.0, label_field="turtle", **FAST)

    assert results.key == "turtle" and results.method == "turtle" and results.n_clusters == 3
    assert len(dataset.exists("turtle")) == len(dataset)


def test_compute_embeddings_fills_a_vector_field(dataset):
    compute_embeddings = foo.get_operator(uri("compute_embeddings"))
    compute_embeddings(dataset.limit(6), model="efficientnet-lite0", embeddings_field="lite0", batch_size=4)

    vectors = dataset.exists("lite0").values("lite0")
    assert len(vectors) == 6 and all(v.shape == (1280,) for v in vectors)
    assert isinstance(dataset.get_field("lite0"), fo.VectorField)


def test_run_info_rename_and_delete(dataset):
    foo.get_operator(uri("cluster_samples"))(dataset, n_clusters=2, embeddings="embeddings", method="kmeans", label_field="km", random_state=0)

    info = foo.get_operator(uri("get_cluster_run_info"))(dataset, "km")
    assert info["run_key"] == "km" and info["method"] == "kmeans" and sum(info["cluster_sizes"]) == len(dataset)

    foo.execute_operator(uri("rename_cluster_run"), dataset=dataset, params=dict(run_key="km", new_run_key="km2", new_label_field="km2"))
    assert petturtle.list_cluster_runs(dataset) == ["km2"]
    assert dataset.has_sample_field("km2") and not dataset.has_sample_field("km")

    foo.execute_operator(uri("delete_cluster_run"), dataset=dataset, params=dict(run_key="km2"))
    assert petturtle.list_cluster_runs(dataset) == []
    assert not dataset.has_sample_field("km2")


def invalid(properties):
    return {name: prop.error_message for name, prop in properties.items() if prop.invalid}


@pytest.mark.parametrize(
    "params, field, message",
    [
        (dict(n_clusters=1), "n_clusters", "between 2 and"),
        (dict(n_clusters=10_000), "n_clusters", "between 2 and"),
        (dict(label_field="not a name"), "label_field", "not a valid name"),
        (dict(label_field="ground_truth"), "label_field", "already exists"),
        (dict(run_key="2fast"), "run_key", "not a valid name"),
        (dict(alpha=-1.0), "alpha", ">= 0"),
        (dict(embeddings_source="model", model="no-such-net"), "model", "Unknown model"),
    ],
)
def test_cluster_form_flags_invalid_values(dataset, params, field, message):
    errors = invalid(form("cluster_samples", dataset, cluster_params(**params)))
    assert field in errors and message in errors[field], errors


def test_cluster_form_refuses_an_existing_run_key_unless_overwriting(dataset):
    foo.execute_operator(uri("cluster_samples"), dataset=dataset, params=cluster_params(method="kmeans"))
    errors = invalid(form("cluster_samples", dataset, cluster_params(label_field="other")))
    assert "already exists" in errors["run_key"]
    assert invalid(form("cluster_samples", dataset, cluster_params(overwrite=True))) == {}

    with pytest.raises(ExecutionError):
        foo.execute_operator(uri("cluster_samples"), dataset=dataset, params=cluster_params(n_clusters=1))


def test_rename_form_refuses_an_existing_key(dataset):
    for key in ("a", "b"):
        foo.execute_operator(uri("cluster_samples"), dataset=dataset, params=cluster_params(method="kmeans", label_field=key, run_key=key))
    errors = invalid(form("rename_cluster_run", dataset, dict(run_key="a", new_run_key="b")))
    assert "already exists" in errors["new_run_key"]


def test_large_views_default_to_delegated_execution(dataset, monkeypatch):
    operator = foo.get_operator(uri("cluster_samples"))
    forms = sys.modules[type(operator).__module__].forms
    ctx = ExecutionContext(request_params=dict(dataset_name=dataset.name, params=cluster_params()))
    assert not operator.resolve_execution_options(ctx).default_choice_to_delegated
    monkeypatch.setattr(forms, "DELEGATION_THRESHOLD", len(dataset) - 1)
    options = operator.resolve_execution_options(ctx)
    assert options.default_choice_to_delegated and options.allow_immediate_execution


def test_app_run_streams_progress_then_reloads_the_dataset(dataset):
    operator = foo.get_operator(uri("cluster_samples"))
    ctx = ExecutionContext(request_params=dict(dataset_name=dataset.name, params=cluster_params()), executor=Executor())
    messages = [message.body for message in operator.execute(ctx)]

    progress = [m.params for m in messages if m.operator_uri == "set_progress"]
    assert {p["label"].split(":")[0] for p in progress} >= {"read", "train", "write"}
    assert progress[-1] == {"label": f"write: {len(dataset)}/{len(dataset)}", "progress": 1.0}
    assert messages[-1].operator_uri == "reload_dataset"
    assert petturtle.list_cluster_runs(dataset) == ["clusters"]


def test_delegated_run_reports_progress_and_writes_the_run(dataset):
    queued = foo.execute_operator(uri("cluster_samples"), dataset=dataset, params=cluster_params(), request_delegation=True)
    assert queued.delegated and petturtle.list_cluster_runs(dataset) == []

    service = DelegatedOperationService()
    service.execute_operation(service.get(queued.result["id"]))

    operation = service.get(queued.result["id"])
    assert operation.run_state == "completed", operation.result
    assert operation.status.label == f"write: {len(dataset)}/{len(dataset)}"
    assert operation.status.progress == 1.0
    assert petturtle.list_cluster_runs(dataset) == ["clusters"]
