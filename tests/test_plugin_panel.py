"""The cluster sizes panel, its event handlers driven the way the App calls them."""

import json

import pytest

import fiftyone as fo
import fiftyone.operators as foo

import petturtle
from browser.data import CLASSES

PANEL = "@pet-turtle/pet-turtle/cluster_sizes"


pytestmark = pytest.mark.usefixtures("plugin_installed")


def cluster(dataset, run_key, **kwargs):
    return petturtle.compute_clusters(
        dataset, len(CLASSES), embeddings="embeddings", gamma=10.0, alpha=1.0, label_field=run_key,
        random_state=0, engine_params={"n_iter": 30}, **kwargs,
    )


class PanelEvent:
    """One panel event as the App sends it: the handler runs, then the panel renders. Keeps
    the state and data the panel patched and the other operators it triggered."""

    def __init__(self, dataset, method, state=None, **event_params):
        self.state = dict(state or {})
        params = dict(panel_id="panel-under-test", panel_state=dict(self.state), __method__=method, **event_params)
        result = foo.execute_operator(PANEL, dataset=dataset, params=params)
        self.data, self.triggered = {}, {}
        for request in result.executor._requests:
            if request.operator_uri == "patch_panel_state":
                self.state.update(request.params["state"])
            elif request.operator_uri == "patch_panel_data":
                self.data.update(request.params["data"])
            else:
                self.triggered[request.operator_uri] = request.params
        self.output = json.dumps(self.triggered["show_panel_output"]["output"], ensure_ascii=False)


def test_without_runs_the_panel_says_how_to_make_one(dataset):
    event = PanelEvent(dataset, "on_load")
    assert event.state["run_keys"] == [] and event.state["run_key"] is None
    assert "No cluster runs yet" in event.output


def test_load_charts_the_latest_run(dataset):
    cluster(dataset, "z_first", method="turtle")
    results = cluster(dataset, "a_second", gt_field="ground_truth")
    event = PanelEvent(dataset, "on_load")

    assert event.state["run_keys"] == ["a_second", "z_first"] and event.state["run_key"] == "a_second"
    bars, prior, uniform = event.data["sizes"]
    assert bars["x"] == results.cluster_names and bars["y"] == results.cluster_sizes
    n_samples = sum(results.cluster_sizes)
    assert prior["y"] == pytest.approx([n_samples * p for p in results.fitted_prior])
    assert uniform["y"] == pytest.approx([n_samples / results.n_clusters] * results.n_clusters)
    assert uniform["line"]["dash"] == "dash"
    assert f"{results.fitted_alpha:.2f}" in event.output and "γ = 10" in event.output

    heatmap = event.data["confusion"][0]
    non_empty = [name for name, size in zip(results.cluster_names, results.cluster_sizes) if size]
    assert sorted(heatmap["y"]) == sorted(CLASSES) and sorted(heatmap["x"]) == non_empty
    assert sum(map(sum, heatmap["z"])) == len(dataset)
    matched = {cls: cluster for cluster, cls in results.evaluation["mapping"].items() if cls is not None}
    matched_columns = [heatmap["x"].index(matched[cls]) for cls in heatmap["y"] if cls in matched]
    assert matched_columns == sorted(matched_columns)  # the Hungarian matches run down the diagonal
    assert "accuracy" in event.output and "NMI" in event.output and "ARI" in event.output


def test_picking_a_run_shows_it(dataset):
    cluster(dataset, "first", method="turtle")
    cluster(dataset, "second")
    loaded = PanelEvent(dataset, "on_load")
    event = PanelEvent(dataset, "on_change_run", loaded.state, value="first")
    assert event.state["run_key"] == "first" and event.state["method"] == "turtle"
    assert event.data["sizes"][0]["y"] == petturtle.load_clusters(dataset, "first").cluster_sizes
    assert "confusion" not in event.data and "accuracy" not in event.output


def test_clicking_a_bar_shows_that_cluster_least_confident_first(dataset):
    results = cluster(dataset, "clusters")
    loaded = PanelEvent(dataset, "on_load")
    name, size = results.cluster_names[1], results.cluster_sizes[1]
    event = PanelEvent(dataset, "on_click_bar", loaded.state, x=name, y=size, trace_idx=0, idx=1)

    view = fo.DatasetView._build(dataset, event.triggered["set_view"]["view"])
    assert len(view) == size and set(view.values("clusters.label")) == {name}
    confidences = view.values("clusters.confidence")
    assert confidences == sorted(confidences)
    assert event.state["cluster"] == name
    assert event.data["sizes"][0]["marker"]["color"][1] != event.data["sizes"][0]["marker"]["color"][0]
    assert f"Tag these {size} samples" in event.output


def test_tagging_and_resetting_the_shown_cluster(dataset):
    results = cluster(dataset, "clusters")
    clicked = PanelEvent(dataset, "on_click_bar", PanelEvent(dataset, "on_load").state, x=results.cluster_names[0])

    tagged = PanelEvent(dataset, "tag_cluster", {**clicked.state, "actions": {"tag": "review"}})
    assert dataset.count_sample_tags() == {"review": results.cluster_sizes[0]}
    assert "reload_dataset" in tagged.triggered

    reset = PanelEvent(dataset, "reset", tagged.state)
    assert "clear_view" in reset.triggered and reset.state["cluster"] is None


def test_refresh_follows_renamed_and_deleted_runs(dataset):
    cluster(dataset, "clusters")
    loaded = PanelEvent(dataset, "on_load")
    petturtle.rename_clusters(dataset, "clusters", "renamed")

    refreshed = PanelEvent(dataset, "refresh", loaded.state)
    assert refreshed.state["run_keys"] == ["renamed"] and refreshed.state["run_key"] == "renamed"
    assert refreshed.state["label_field"] == "renamed"

    petturtle.delete_clusters(dataset, "renamed")
    assert PanelEvent(dataset, "refresh", refreshed.state).state["run_keys"] == []


def test_many_clusters_are_named_on_the_axis_and_in_hovers(dataset):
    results = petturtle.compute_clusters(dataset, 40, embeddings="embeddings", method="kmeans", label_field="many", random_state=0)
    bars = PanelEvent(dataset, "on_load").data["sizes"][0]
    assert bars["x"] == results.cluster_names and len(set(bars["x"])) == 40
    assert "%{x}" in bars["hovertemplate"]
