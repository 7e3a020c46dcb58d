"""The ``cluster_sizes`` panel: one run's cluster sizes against its fitted power-law prior.

Everything shown is read from the run (``petturtle.load_clusters``) when the panel loads,
when another run is picked, on 'Refresh' and when the dataset changes; ``render`` only lays
out what the handlers put in the panel's state (small values) and data (chart traces).
"""

import fiftyone.operators as foo
import fiftyone.operators.types as types
from fiftyone import ViewField as F

import petturtle
from petturtle.fo.runs import ground_truth_path

BAR_COLOR = "#4c72b0"
SELECTED_BAR_COLOR = "#ff6d04"
PRIOR_COLOR = "#e45756"
UNIFORM_COLOR = "#9a9a9a"

HELP = """
Sizes of the clusters of a PET-TURTLE run, largest first, with the power law fitted to
them (N·Π(α̂)) and the uniform sizes N/C that TURTLE and K-means implicitly assume.

Click a bar to show that cluster's samples in the grid, least confident first.
"""


class ClusterSizesPanel(foo.Panel):
    @property
    def config(self):
        return foo.PanelConfig(
            name="cluster_sizes",
            label="Cluster sizes",
            icon="bar_chart",
            help_markdown=HELP,
        )

    # Events that (re)read the runs

    def on_load(self, ctx):
        self._show_run(ctx, ctx.panel.state.run_key)

    def on_change_dataset(self, ctx):
        self._show_run(ctx, None)

    def refresh(self, ctx):
        self._show_run(ctx, ctx.panel.state.run_key)

    def on_change_run(self, ctx):
        self._show_run(ctx, ctx.params.get("value"))

    # Events that act on the grid

    def on_click_bar(self, ctx):
        cluster = ctx.params.get("x")
        if cluster not in (ctx.panel.state.cluster_names or []):
            return
        ctx.ops.set_view(view=self._cluster_view(ctx, cluster))
        ctx.panel.state.cluster = cluster
        self._set_sizes_chart(ctx)

    def on_click_cell(self, ctx):
        """A confusion-matrix cell: the samples of that true class put in that cluster."""
        cluster, true_class = ctx.params.get("x"), ctx.params.get("y")
        gt_path = ctx.panel.state.gt_path
        if cluster is None or gt_path is None:
            return
        ctx.ops.set_view(view=self._cluster_view(ctx, cluster).match(F(gt_path) == true_class))
        ctx.panel.state.cluster = cluster
        self._set_sizes_chart(ctx)

    def reset(self, ctx):
        ctx.ops.clear_view()
        ctx.panel.state.cluster = None
        self._set_sizes_chart(ctx)

    def tag_cluster(self, ctx):
        cluster = ctx.panel.state.cluster
        # the App keeps an input's value at its path in the layout: actions.tag
        tag = ctx.panel.state.get("actions.tag") or cluster
        if cluster is None or not tag:
            return
        samples = self._cluster_view(ctx, cluster)
        samples.tag_samples(tag)
        ctx.ops.notify(f"Tagged the {len(samples)} samples of {cluster} '{tag}'", variant="success")
        ctx.trigger("reload_dataset")

    # Loading

    def _cluster_view(self, ctx, cluster):
        label_field = ctx.panel.state.label_field
        return ctx.dataset.match(F(f"{label_field}.label") == cluster).sort_by(f"{label_field}.confidence")

    def _show_run(self, ctx, run_key):
        run_keys = petturtle.list_cluster_runs(ctx.dataset)
        if run_key not in run_keys:  # first load, or the run was deleted: show the newest
            run_key = max(run_keys, key=lambda k: ctx.dataset.get_run_info(k).timestamp) if run_keys else None
        # header.run_key is where the App keeps the dropdown's value
        ctx.panel.state.set({"run_keys": run_keys, "run_key": run_key, "header.run_key": run_key, "cluster": None})
        if run_key is None:
            return
        results = petturtle.load_clusters(ctx.dataset, run_key)
        summary = results.summary()
        evaluation = summary["evaluation"]
        ctx.panel.state.set(
            {
                "label_field": summary["label_field"],
                "method": summary["method"],
                "cluster_names": summary["cluster_names"],
                "cluster_sizes": summary["cluster_sizes"],
                "fitted_prior": summary["fitted_prior"],
                "fitted_alpha": summary["fitted_alpha"],
                "gamma": summary["gamma"],
                "alpha": summary["alpha"],
                "n_skipped": summary["n_skipped"],
                "scores": {k: evaluation[k] for k in ("accuracy", "nmi", "ari")} if evaluation else None,
                "n_classes": len(evaluation["classes"]) if evaluation else None,
                "gt_path": ground_truth_path(ctx.dataset, evaluation["gt_field"]) if evaluation else None,
            }
        )
        self._set_sizes_chart(ctx)
        if evaluation:
            ctx.panel.data.confusion = _confusion_heatmap(evaluation)

    def _set_sizes_chart(self, ctx):
        state = ctx.panel.state
        if not state.cluster_names:
            return
        ctx.panel.data.sizes = _sizes_traces(
            state.cluster_names, state.cluster_sizes, state.fitted_prior, state.fitted_alpha, state.cluster
        )

    # Layout

    def render(self, ctx):
        state = ctx.panel.state
        panel = types.Object()
        header = panel.h_stack("header", align_x="left", align_y="center", gap=2)
        if not state.run_keys:
            header.md(
                "#### No cluster runs yet\n\nRun the **PET-TURTLE: cluster samples** operator "
                "(press `` ` `` or the operator browser), then click Refresh.",
                name="empty",
            )
            header.btn("refresh", label="Refresh", icon="refresh", on_click=self.refresh)
            return types.Property(panel, view=types.GridView(orientation="vertical", padding=2))

        runs = types.DropdownView()
        for run_key in state.run_keys:
            runs.add_choice(run_key, label=run_key)
        header.enum("run_key", runs.values(), default=state.run_key, label="Cluster run", view=runs, on_change=self.on_change_run)
        header.btn("refresh", label="Refresh", icon="refresh", variant="outlined", on_click=self.refresh)
        panel.md(_run_summary_markdown(state), name="summary")

        panel.plot(
            "sizes",
            layout=_sizes_layout(len(state.cluster_names)),
            config={"displayModeBar": False, "responsive": True},
            on_click=self.on_click_bar,
        )

        actions = panel.h_stack("actions", align_x="left", align_y="center", gap=2)
        if state.cluster:
            size = state.cluster_sizes[state.cluster_names.index(state.cluster)]
            actions.md(f"Showing **{state.cluster}**: {size} samples, least confident first", name="shown")
            actions.str("tag", default=state.cluster, label="Tag")
            actions.btn("tag_cluster", label=f"Tag these {size} samples", icon="local_offer", on_click=self.tag_cluster)
            actions.btn("reset", label="Show all samples", icon="restart_alt", variant="outlined", on_click=self.reset)
        else:
            actions.md("Click a bar to show that cluster's samples, least confident first.", name="hint")

        if state.scores:
            scores = state.scores
            panel.md(
                f"Against ground truth: accuracy **{scores['accuracy']:.1%}** · "
                f"NMI **{scores['nmi']:.3f}** · ARI **{scores['ari']:.3f}** "
                "(clusters matched to classes by the Hungarian algorithm)",
                # not "scores": a view shows the state value at its own name
                name="scores_text",
            )
            panel.plot(
                "confusion",
                layout=_confusion_layout(state.n_classes, len(state.cluster_names)),
                config={"displayModeBar": False, "responsive": True},
                on_click=self.on_click_cell,
            )
        return types.Property(panel, view=types.GridView(orientation="vertical", align_x="stretch", padding=2, gap=1))


def _run_summary_markdown(state):
    n_samples = sum(state.cluster_sizes)
    method = {"pet-turtle": "PET-TURTLE", "turtle": "TURTLE", "kmeans": "K-means"}.get(state.method, state.method)
    parts = [f"**{method}** on {n_samples} samples, {len(state.cluster_names)} clusters in `{state.label_field}`"]
    if state.gamma is not None:
        parts.append(f"γ = {state.gamma:g}")
    if state.alpha is not None:
        parts.append(f"prior α = {state.alpha:g}")
    parts.append(f"fitted α̂ = **{state.fitted_alpha:.2f}**")
    if state.n_skipped:
        parts.append(f"{state.n_skipped} samples without embeddings skipped")
    return " · ".join(parts)


def _sizes_traces(names, sizes, fitted_prior, fitted_alpha, selected):
    n_samples = sum(sizes)
    return [
        {
            "type": "bar",
            "name": "cluster size",
            "x": names,
            "y": sizes,
            "marker": {"color": [SELECTED_BAR_COLOR if name == selected else BAR_COLOR for name in names]},
            "hovertemplate": "%{x}: %{y} samples<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": f"power law N·Π(α̂={fitted_alpha:.2f})",
            "x": names,
            "y": [n_samples * p for p in fitted_prior],
            "line": {"color": PRIOR_COLOR, "width": 2.5},
            "hovertemplate": "%{x}: %{y:.1f} expected (power law)<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "uniform N/C",
            "x": names,
            "y": [n_samples / len(names)] * len(names),
            "line": {"color": UNIFORM_COLOR, "dash": "dash", "width": 2},
            "hovertemplate": "%{y:.1f} per cluster if uniform<extra></extra>",
        },
    ]


def _sizes_layout(n_clusters):
    return {
        "height": 420,
        "autosize": True,
        "title": {"text": "Cluster sizes, largest first", "x": 0.01},
        "xaxis": {"type": "category", "title": {"text": "cluster"}, "tickangle": -45 if n_clusters > 8 else 0, "automargin": True},
        "yaxis": {"title": {"text": "samples"}, "rangemode": "tozero"},
        "showlegend": True,
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
        "bargap": 0.15,
        "hovermode": "closest",
        "margin": {"t": 60, "r": 20, "b": 40, "l": 60},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
    }


def _confusion_heatmap(evaluation):
    """True class (rows) vs cluster (columns, largest first as in the bar chart). Rows follow
    the cluster the Hungarian matching gives each class, so matched pairs form the diagonal;
    unmatched classes come last."""
    classes, clusters, counts = evaluation["classes"], evaluation["clusters"], evaluation["confusion_matrix"]
    column_of_class = {cls: clusters.index(cluster) for cluster, cls in evaluation["mapping"].items() if cls is not None}
    rows = sorted(range(len(classes)), key=lambda i: column_of_class.get(classes[i], len(clusters)))
    return [
        {
            "type": "heatmap",
            "x": clusters,
            "y": [classes[i] for i in rows],
            "z": [counts[i] for i in rows],
            # from the panel's background to the bars' blue, so the eye reads counts, not hues
            "colorscale": [[0.0, "#1e2230"], [1.0, BAR_COLOR]],
            # counts written in the cells while they stay legible
            "texttemplate": "%{z}" if len(classes) * len(clusters) <= 400 else "",
            "hovertemplate": "class %{y} in %{x}: %{z} samples<extra></extra>",
        }
    ]


def _confusion_layout(n_classes, n_clusters):
    return {
        "height": min(900, 180 + 36 * n_classes),
        "autosize": True,
        "title": {"text": "True class vs cluster", "x": 0.01},
        "xaxis": {"type": "category", "title": {"text": "cluster"}, "tickangle": -45 if n_clusters > 8 else 0, "automargin": True},
        "yaxis": {"type": "category", "title": {"text": "true class"}, "autorange": "reversed", "automargin": True},
        "margin": {"t": 50, "r": 20, "b": 40, "l": 60},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
    }

