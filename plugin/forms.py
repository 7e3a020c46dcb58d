"""Small builders for the operators' forms, each adding one group of inputs.

Each builder reads the value the user has entered so far (``ctx.params``) and marks its
input invalid with a message, so the App shows the problem next to the input and refuses
to execute; ``execute_operator`` refuses the same values from Python.
"""

import fiftyone as fo
import fiftyone.operators.types as types

import petturtle
from petturtle.fo.encoders import is_model_name

# Views larger than this are scheduled (delegated) by default rather than run in the App.
DELEGATION_THRESHOLD = 5000

METHODS = {"pet-turtle": "PET-TURTLE", "turtle": "TURTLE", "kmeans": "K-means"}
METHOD_DESCRIPTIONS = {
    "pet-turtle": "Power-law cluster-size prior: suited to imbalanced classes",
    "turtle": "Entropy regularizer: assumes roughly balanced clusters",
    "kmeans": "Baseline on the same embeddings",
}


def target_view(ctx, inputs, action):
    """The dataset / current view / selected samples choice; returns the chosen view."""
    inputs.view_target(ctx, action_description=action)
    return ctx.target_view()


def execution_options(ctx):
    """Immediate or delegated execution, delegated chosen by default for large views."""
    from fiftyone.operators.executor import ExecutionOptions

    return ExecutionOptions(
        allow_immediate_execution=True,
        allow_delegated_execution=True,
        default_choice_to_delegated=len(ctx.target_view()) > DELEGATION_THRESHOLD,
    )


def name_problem(name):
    """Why ``name`` cannot be a field name or run key, or None when it can (an empty name is
    left to the input's ``required`` flag)."""
    if not name:
        return None
    if not name.isidentifier() or name.startswith("_"):
        return f"'{name}' is not a valid name: use letters, digits and underscores, not starting with a digit or underscore"
    return None


def unused_name(base, taken):
    """``base``, or ``base_2``, ``base_3``... whichever is not taken: a default that is valid."""
    name, suffix = base, 2
    while name in taken:
        name, suffix = f"{base}_{suffix}", suffix + 1
    return name


def overwrite_checkbox(inputs, description):
    inputs.bool("overwrite", default=False, label="Overwrite", description=description, view=types.CheckboxView())


def new_field_name(ctx, inputs, name, label, default, existing, description):
    """A field name to write; an existing one is refused unless 'overwrite' is checked."""
    value = ctx.params.get(name, default)
    problem = name_problem(value)
    if problem is None and value in existing and not ctx.params.get("overwrite", False):
        problem = f"Field '{value}' already exists: choose another name or check 'Overwrite'"
    inputs.str(
        name,
        default=default,
        required=True,
        label=label,
        description=description,
        invalid=problem is not None,
        error_message=problem or "",
    )
    return value


def new_run_key(ctx, inputs, default, existing, name="run_key", label="Run key", allow_overwrite=True):
    """A run key to create; an existing one is refused (unless 'overwrite' is checked)."""
    value = ctx.params.get(name, default)
    problem = name_problem(value)
    overwriting = allow_overwrite and ctx.params.get("overwrite", False)
    if problem is None and value in existing and not overwriting:
        hint = "choose another key or check 'Overwrite'" if allow_overwrite else "choose another key"
        problem = f"A run with key '{value}' already exists: {hint}"
    inputs.str(
        name,
        default=default,
        required=True,
        label=label,
        description="Name under which the run is stored on the dataset",
        invalid=problem is not None,
        error_message=problem or "",
    )
    return value


def existing_run_key(ctx, inputs):
    """A dropdown of the dataset's cluster runs; returns the chosen key, or None if none exist."""
    run_keys = petturtle.list_cluster_runs(ctx.dataset)
    if not run_keys:
        inputs.view("no_runs", types.Warning(label="This dataset has no cluster runs yet", description="Run 'Cluster samples' first"))
        return None
    dropdown = types.DropdownView()
    for run_key in run_keys:
        dropdown.add_choice(run_key, label=run_key)
    inputs.enum("run_key", dropdown.values(), required=True, default=run_keys[-1], label="Cluster run", view=dropdown)
    return ctx.params.get("run_key", run_keys[-1])


def vector_fields(view):
    return sorted(view.get_field_schema(ftype=fo.VectorField))


def classification_fields(view):
    return sorted(view.get_field_schema(embedded_doc_type=fo.Classification))


def model_name(ctx, inputs):
    """An encoder the SDK can build: an open_clip architecture or the offline EfficientNet-Lite0."""
    value = ctx.params.get("model", "ViT-B-32")
    problem = None if value and is_model_name(value) else f"Unknown model '{value}': use an open_clip architecture (e.g. ViT-B-32) or efficientnet-lite0"
    inputs.str(
        "model",
        default="ViT-B-32",
        required=True,
        label="Model",
        description="An open_clip architecture (e.g. ViT-B-32, RN50x64), or efficientnet-lite0 (works offline)",
        invalid=problem is not None,
        error_message=problem or "",
    )
    return value


def pretrained_tag(inputs):
    inputs.str(
        "pretrained",
        label="Pretrained weights",
        description="An open_clip pretrained tag (e.g. openai, laion2b_s34b_b79k) or a checkpoint file; empty for the SDK's default",
    )


def embeddings_source(ctx, inputs, view):
    """An existing vector field, or a model to embed with first; returns the ``embeddings``
    argument of ``petturtle.compute_clusters`` (a field name or a model name)."""
    fields = vector_fields(view)
    sources = types.RadioGroup()
    if fields:
        sources.add_choice("field", label="Existing embeddings field")
    sources.add_choice("model", label="Embed with a model first")
    source = ctx.params.get("embeddings_source", "field" if fields else "model")
    inputs.enum("embeddings_source", sources.values(), default=source, required=True, label="Embeddings", view=sources)
    if source == "field" and fields:
        dropdown = types.DropdownView()
        for field in fields:
            dropdown.add_choice(field, label=field)
        inputs.enum("embeddings_field", dropdown.values(), default=fields[0], required=True, label="Embeddings field", view=dropdown)
        return ctx.params.get("embeddings_field", fields[0])
    return model_name(ctx, inputs)


def n_clusters(ctx, inputs, n_samples):
    """Number of clusters: at least 2, at most the number of target samples."""
    value = ctx.params.get("n_clusters", min(10, max(n_samples, 2)))
    problem = None
    if not isinstance(value, (int, float)) or value != int(value):
        problem = "Enter a whole number of clusters"
    elif not 2 <= value <= n_samples:
        problem = f"The number of clusters must be between 2 and the number of target samples ({n_samples})"
    inputs.int(
        "n_clusters",
        default=min(10, max(n_samples, 2)),
        required=True,
        label="Number of clusters",
        description="C, the number of clusters to discover",
        invalid=problem is not None,
        error_message=problem or "",
    )
    return value


def method(ctx, inputs):
    radio = types.RadioGroup()
    for value, label in METHODS.items():
        radio.add_choice(value, label=label, description=METHOD_DESCRIPTIONS[value])
    inputs.enum("method", radio.values(), default="pet-turtle", required=True, label="Method", view=radio)
    return ctx.params.get("method", "pet-turtle")


def auto_or_value(ctx, inputs, name, label, description, default_value, minimum):
    """A hyperparameter chosen automatically (searched over the paper's grid) or given;
    returns "auto" or the value."""
    mode = f"{name}_mode"
    radio = types.RadioGroup(orientation="horizontal")
    radio.add_choice("auto", label="Auto (grid search)")
    radio.add_choice("value", label="Value")
    inputs.enum(mode, radio.values(), default="auto", label=label, description=description, view=radio)
    if ctx.params.get(mode, "auto") == "auto":
        return "auto"
    value = ctx.params.get(name, default_value)
    problem = None if isinstance(value, (int, float)) and value >= minimum else f"{label} must be a number >= {minimum}"
    inputs.float(
        name,
        default=default_value,
        required=True,
        label=f"{label} value",
        invalid=problem is not None,
        error_message=problem or "",
    )
    return value


def ground_truth_field(ctx, inputs, view):
    """An optional classification field to evaluate the clustering against."""
    fields = classification_fields(view)
    if not fields:
        return None
    dropdown = types.DropdownView()
    for field in fields:
        dropdown.add_choice(field, label=field)
    inputs.enum(
        "gt_field",
        dropdown.values(),
        label="Evaluate against (optional)",
        description="Ground-truth classification field: reports accuracy, NMI and ARI and a confusion matrix",
        view=dropdown,
    )
    return ctx.params.get("gt_field")
