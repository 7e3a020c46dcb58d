"""End to end: the App, served on loopback with the plugin installed, in headless chromium.

Opens the cluster sizes panel, checks its bars are the run's cluster sizes, clicks a bar and
checks the grid shows exactly that cluster, then tags it; and runs the cluster_samples
operator from its form in the App. Screenshots go to artifacts/; with
PETTURTLE_UPDATE_DOCS_IMAGES=1 the clicked state is also saved as the README's image.
Needs Debian's chromium (apt-get install -y chromium): without it the test fails, saying so.
"""

import os
import shutil
import time
import uuid

import pytest

import petturtle
from browser.app import app_server, chromium_page, require_chromium
from browser.data import make_dataset, plugins_dir_with_repo

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARTIFACTS = os.path.join(REPO, "artifacts")
DOCS_IMAGE = os.path.join(REPO, "docs", "images", "cluster_sizes_panel.png")

# Plotly keeps each chart's traces on its graph div
PLOT_TRACES = "() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(d => d.data.map(t => ({type: t.type, x: t.x, y: t.y})))"


@pytest.fixture
def clustered_dataset(tmp_path):
    dataset = make_dataset(f"plugin-app-{uuid.uuid4().hex[:8]}", str(tmp_path))
    dataset.persistent = True  # the App server is another process
    results = petturtle.compute_clusters(
        dataset, 4, embeddings="embeddings", gamma=10.0, alpha=1.0, label_field="pet_turtle",
        gt_field="ground_truth", random_state=2, engine_params={"n_iter": 30},  # a seed that finds the 4 classes
    )
    yield dataset, results
    dataset.delete()


@pytest.fixture
def app(tmp_path):
    """The App's URL and a chromium page, the plugin installed through FIFTYONE_PLUGINS_DIR."""
    require_chromium()
    os.makedirs(ARTIFACTS, exist_ok=True)
    (tmp_path / "plugins").mkdir()
    plugins_dir = plugins_dir_with_repo(str(tmp_path / "plugins"))
    with app_server(plugins_dir, os.path.join(ARTIFACTS, "app_server.log")) as url, chromium_page() as page:
        yield url, page


def open_dataset(app, dataset):
    """Opens the dataset's grid; returns the locator of its sample count."""
    url, page = app
    page.goto(f"{url}/datasets/{dataset.name}", wait_until="load")
    counts = page.locator('[data-cy="entry-counts"]')
    counts.get_by_text(f"{len(dataset)} samples").wait_for(timeout=90_000)
    dismiss = page.get_by_role("button", name="Dismiss")  # the App's promotional popup
    if dismiss.count():
        dismiss.click()
    return counts


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_clicking_a_bar_filters_the_grid_to_that_cluster(clustered_dataset, app):
    dataset, results = clustered_dataset
    page = app[1]
    counts = open_dataset(app, dataset)

    page.click('[data-cy="new-panel-btn"]')
    page.click('[data-cy="new-panel-option-cluster_sizes"]')
    bars = page.locator(".js-plotly-plot").first.locator("g.point")
    bars.first.wait_for(timeout=60_000)
    page.locator(".js-plotly-plot").nth(1).locator("g.hm").wait_for(timeout=30_000)  # the confusion heatmap
    page.wait_for_timeout(1000)  # let the panel's layout settle before clicking a bar
    page.screenshot(path=os.path.join(ARTIFACTS, "cluster_sizes_panel_loaded.png"))
    page.get_by_text(f"accuracy {results.evaluation['accuracy']:.1%}").wait_for(timeout=10_000)

    sizes_chart = page.evaluate(PLOT_TRACES)[0]
    assert sizes_chart[0]["type"] == "bar"
    assert sizes_chart[0]["x"] == results.cluster_names
    assert sizes_chart[0]["y"] == results.cluster_sizes

    # the second-largest cluster: a bar that is neither the whole dataset nor empty
    index = 1
    name, size = results.cluster_names[index], results.cluster_sizes[index]
    assert 0 < size < len(dataset)
    box = bars.nth(index).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] - 4)
    counts.get_by_text(f"{size} samples", exact=True).wait_for(timeout=60_000)
    page.get_by_text(f"Tag these {size} samples").wait_for(timeout=30_000)
    clicked = os.path.join(ARTIFACTS, "cluster_sizes_panel.png")
    page.screenshot(path=clicked)

    page.locator(f'input[value="{name}"]').fill("review")  # the tag input offers the cluster's name
    page.wait_for_timeout(1000)  # the App syncs typed values into the panel state
    page.get_by_text(f"Tag these {size} samples").click()
    deadline = time.monotonic() + 30
    while dataset.count_sample_tags().get("review") != size and time.monotonic() < deadline:
        time.sleep(0.5)
    assert dataset.match_tags("review").distinct("pet_turtle.label") == [name]
    assert dataset.count_sample_tags() == {"review": size}

    if os.environ.get("PETTURTLE_UPDATE_DOCS_IMAGES") == "1":
        shutil.copy(clicked, DOCS_IMAGE)


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_cluster_samples_runs_from_its_form_and_reloads_the_app(clustered_dataset, app):
    dataset, _ = clustered_dataset
    page = app[1]
    open_dataset(app, dataset)

    page.keyboard.press("`")  # the operator browser
    page.keyboard.type("cluster samples")
    page.get_by_text("PET-TURTLE: cluster samples").first.click()
    page.get_by_text("Prior exponent alpha").first.wait_for()
    page.get_by_label("Value").nth(0).check()  # fixed alpha and gamma: no grid search
    page.get_by_text("Prior exponent alpha value").wait_for()
    page.get_by_label("Value").nth(1).check()
    page.get_by_text("Regularization gamma value").wait_for()
    page.locator('input[type="number"]').first.fill("4")  # number of clusters
    page.wait_for_timeout(1000)
    page.screenshot(path=os.path.join(ARTIFACTS, "cluster_samples_form.png"))
    page.get_by_role("button", name="Execute", exact=True).click()

    # the form's default label field avoids the existing run's; the App reloads to show it
    page.locator('[data-cy="checkbox-pet_turtle_2"]').wait_for(timeout=120_000)
    dataset.reload()
    assert petturtle.list_cluster_runs(dataset) == ["pet_turtle", "pet_turtle_2"]
    results = petturtle.load_clusters(dataset, "pet_turtle_2")
    assert (results.method, results.n_clusters, results.alpha, results.gamma) == ("pet-turtle", 4, 1.0, 10.0)
    assert len(dataset.exists("pet_turtle_2")) == len(dataset)
