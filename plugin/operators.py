"""The plugin's operators: each builds a form and wraps one ``petturtle`` SDK call.

Every operator is also callable from Python::

    import fiftyone.operators as foo

    cluster_samples = foo.get_operator("@pet-turtle/pet-turtle/cluster_samples")
    results = cluster_samples(dataset, n_clusters=10)
"""

import fiftyone.operators as foo
import fiftyone.operators.types as types

import petturtle

from . import forms
from .progress import run_reporting_progress


def _auto_or_value(params, name):
    return "auto" if params.get(f"{name}_mode", "auto") == "auto" else params[name]


def _auto_or_value_params(name, value):
    return {f"{name}_mode": "auto"} if value == "auto" else {f"{name}_mode": "value", name: value}


class ComputeEmbeddings(foo.Operator):
    @property
    def config(self):
        return foo.OperatorConfig(
            name="compute_embeddings",
            label="PET-TURTLE: compute embeddings",
            description="Embed images with an open_clip model and store the vectors in a field",
            dynamic=True,
            execute_as_generator=True,
            allow_immediate_execution=True,
            allow_delegated_execution=True,
        )

    def resolve_input(self, ctx):
        inputs = types.Object()
        view = forms.target_view(ctx, inputs, action="Embed")
        forms.model_name(ctx, inputs)
        forms.pretrained_tag(inputs)
        forms.new_field_name(
            ctx,
            inputs,
            "embeddings_field",
            label="Embeddings field",
            default="clip_embeddings",
            existing=view.get_field_schema(),
            description="Vector field receiving each sample's embedding",
        )
        inputs.int("batch_size", default=64, min=1, label="Batch size", description="Images per forward pass")
        forms.overwrite_checkbox(inputs, "Recompute the embeddings of samples that already have them")
        return types.Property(inputs, view=types.View(label="Compute embeddings"))

    def resolve_execution_options(self, ctx):
        return forms.execution_options(ctx)

    def execute(self, ctx):
        params = ctx.params
        yield from run_reporting_progress(
            ctx,
            petturtle.compute_embeddings,
            ctx.target_view(),
            model=params["model"],
            embeddings_field=params["embeddings_field"],
            batch_size=params.get("batch_size", 64),
            overwrite=params.get("overwrite", False),
            pretrained=params.get("pretrained") or "default",
        )
        yield ctx.trigger("reload_dataset")

    def __call__(self, sample_collection, model="ViT-B-32", pretrained=None, embeddings_field="clip_embeddings", batch_size=64, overwrite=False, delegate=False):
        """Embeds ``sample_collection`` into ``embeddings_field``; returns the ``ExecutionResult``."""
        params = dict(model=model, pretrained=pretrained, embeddings_field=embeddings_field, batch_size=batch_size, overwrite=overwrite)
        return foo.execute_operator(self.uri, dict(view=sample_collection.view()), params=params, request_delegation=delegate)


class ClusterSamples(foo.Operator):
    @property
    def config(self):
        return foo.OperatorConfig(
            name="cluster_samples",
            label="PET-TURTLE: cluster samples",
            description="Discover clusters in image embeddings with PET-TURTLE, TURTLE or K-means",
            dynamic=True,
            execute_as_generator=True,
            allow_immediate_execution=True,
            allow_delegated_execution=True,
        )

    def resolve_input(self, ctx):
        inputs = types.Object()
        view = forms.target_view(ctx, inputs, action="Cluster")
        forms.embeddings_source(ctx, inputs, view)
        forms.n_clusters(ctx, inputs, len(view))
        method = forms.method(ctx, inputs)
        if method == "pet-turtle":
            forms.auto_or_value(
                ctx,
                inputs,
                "alpha",
                label="Prior exponent alpha",
                description="Cluster c is expected to hold a share proportional to c^-alpha (0 = uniform sizes)",
                default_value=1.0,
                minimum=0.0,
            )
        if method != "kmeans":
            forms.auto_or_value(
                ctx,
                inputs,
                "gamma",
                label="Regularization gamma",
                description="Weight of the cluster-size regularizer",
                default_value=10.0,
                minimum=0.0,
            )
        forms.ground_truth_field(ctx, inputs, view)
        fields, run_keys = set(ctx.dataset.get_field_schema()), ctx.dataset.list_runs()
        label_field = forms.new_field_name(
            ctx,
            inputs,
            "label_field",
            label="Label field",
            default=forms.unused_name("pet_turtle", fields | set(run_keys)),
            existing=fields,
            description="Classification field receiving each sample's cluster and its confidence",
        )
        forms.new_run_key(ctx, inputs, default=label_field, existing=run_keys)
        forms.overwrite_checkbox(inputs, "Replace an existing label field or run of the same name")
        return types.Property(inputs, view=types.View(label="Cluster samples"))

    def resolve_execution_options(self, ctx):
        return forms.execution_options(ctx)

    def execute(self, ctx):
        params = ctx.params
        source = params.get("embeddings_source", "field")
        label_field = params.get("label_field", "pet_turtle")
        yield from run_reporting_progress(
            ctx,
            petturtle.compute_clusters,
            ctx.target_view(),
            int(params["n_clusters"]),
            embeddings=params["embeddings_field"] if source == "field" else params["model"],
            method=params.get("method", "pet-turtle"),
            gamma=_auto_or_value(params, "gamma"),
            alpha=_auto_or_value(params, "alpha"),
            label_field=label_field,
            run_key=params.get("run_key") or label_field,
            gt_field=params.get("gt_field"),
            random_state=params.get("random_state"),
            overwrite=params.get("overwrite", False),
            engine_params=params.get("engine_params"),
        )
        yield ctx.trigger("reload_dataset")

    def __call__(
        self,
        sample_collection,
        n_clusters,
        embeddings="clip_embeddings",
        method="pet-turtle",
        gamma="auto",
        alpha="auto",
        label_field="pet_turtle",
        run_key=None,
        gt_field=None,
        random_state=None,
        overwrite=False,
        engine_params=None,
        delegate=False,
    ):
        """Clusters ``sample_collection``; ``embeddings`` is a vector field or an open_clip
        model name. Returns the run's results, or the queued operation when delegated."""
        is_field = embeddings in sample_collection.get_field_schema()
        params = dict(
            embeddings_source="field" if is_field else "model",
            **{"embeddings_field" if is_field else "model": embeddings},
            n_clusters=n_clusters,
            method=method,
            **_auto_or_value_params("gamma", gamma),
            **_auto_or_value_params("alpha", alpha),
            label_field=label_field,
            run_key=run_key or label_field,
            gt_field=gt_field,
            random_state=random_state,
            overwrite=overwrite,
            engine_params=engine_params,
        )
        result = foo.execute_operator(self.uri, dict(view=sample_collection.view()), params=params, request_delegation=delegate)
        if delegate:
            return result
        return petturtle.load_clusters(sample_collection._root_dataset, run_key or label_field)


class GetClusterRunInfo(foo.Operator):
    @property
    def config(self):
        return foo.OperatorConfig(
            name="get_cluster_run_info",
            label="PET-TURTLE: get cluster run info",
            description="Show the parameters, fitted prior and evaluation of a cluster run",
            dynamic=True,
        )

    def resolve_input(self, ctx):
        inputs = types.Object()
        forms.existing_run_key(ctx, inputs)
        return types.Property(inputs, view=types.View(label="Get cluster run info"))

    def execute(self, ctx):
        return {"info": petturtle.load_clusters(ctx.dataset, ctx.params["run_key"]).summary()}

    def resolve_output(self, ctx):
        outputs = types.Object()
        outputs.obj("info", label=f"Cluster run '{ctx.params.get('run_key')}'", view=types.JSONView())
        return types.Property(outputs, view=types.View(label="Cluster run info"))

    def __call__(self, dataset, run_key):
        return foo.execute_operator(self.uri, dict(dataset=dataset), params=dict(run_key=run_key)).result["info"]


class RenameClusterRun(foo.Operator):
    @property
    def config(self):
        return foo.OperatorConfig(
            name="rename_cluster_run",
            label="PET-TURTLE: rename cluster run",
            description="Rename a cluster run and the label field it wrote",
            dynamic=True,
        )

    def resolve_input(self, ctx):
        inputs = types.Object()
        run_key = forms.existing_run_key(ctx, inputs)
        if run_key is not None:
            new_run_key = forms.new_run_key(
                ctx,
                inputs,
                default="",
                existing=ctx.dataset.list_runs(),
                name="new_run_key",
                label="New run key",
                allow_overwrite=False,
            )
            label_field = petturtle.load_clusters(ctx.dataset, run_key).label_field
            forms.new_field_name(
                ctx,
                inputs,
                "new_label_field",
                label="New label field",
                default=new_run_key or label_field,
                existing=set(ctx.dataset.get_field_schema()) - {label_field},
                description=f"The run's labels, now in '{label_field}', move to this field",
            )
        return types.Property(inputs, view=types.View(label="Rename cluster run"))

    def execute(self, ctx):
        params = ctx.params
        petturtle.rename_clusters(ctx.dataset, params["run_key"], params["new_run_key"], new_label_field=params.get("new_label_field"))
        ctx.trigger("reload_dataset")

    def __call__(self, dataset, run_key, new_run_key, new_label_field=None):
        """Renames the run and its label field (to ``new_label_field``, default ``new_run_key``)."""
        params = dict(run_key=run_key, new_run_key=new_run_key, new_label_field=new_label_field or new_run_key)
        return foo.execute_operator(self.uri, dict(dataset=dataset), params=params)


class DeleteClusterRun(foo.Operator):
    @property
    def config(self):
        return foo.OperatorConfig(
            name="delete_cluster_run",
            label="PET-TURTLE: delete cluster run",
            dynamic=True,
        )

    def resolve_input(self, ctx):
        inputs = types.Object()
        run_key = forms.existing_run_key(ctx, inputs)
        if run_key is not None:
            inputs.view(
                "warning",
                types.Warning(label=f"Deletes run '{run_key}' and the cluster labels it wrote"),
            )
        return types.Property(inputs, view=types.View(label="Delete cluster run"))

    def execute(self, ctx):
        petturtle.delete_clusters(ctx.dataset, ctx.params["run_key"])
        ctx.trigger("reload_dataset")

    def __call__(self, dataset, run_key):
        return foo.execute_operator(self.uri, dict(dataset=dataset), params=dict(run_key=run_key))
