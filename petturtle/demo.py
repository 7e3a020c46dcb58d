"""The offline demo: ``python -m petturtle.demo [--headless] [--port N]``.

Builds a long-tailed image dataset from scikit-learn's bundled handwritten digits (no download),
embeds it with the offline EfficientNet-Lite0, clusters it with PET-TURTLE, TURTLE and K-means,
prints how each did against the ground truth, and opens the FiftyOne App on the result.
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np

DATASET_NAME = "petturtle-demo"
N_CLASSES = 10
# The largest class keeps this many images; class c keeps int(LARGEST * (c + 1) ** -ALPHA).
LARGEST = 170
ALPHA = 1.0
METHODS = (("pet-turtle", "pet_turtle"), ("turtle", "turtle"), ("kmeans", "kmeans"))
PLUGIN_NAME = "@pet-turtle/pet-turtle"
PANEL_NAME = "cluster_sizes"


def images_folder():
    """Where the demo images live: outside any repository, stable across runs."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "petturtle" / "demo" / "digits"


def write_digit_images(folder, largest=LARGEST, alpha=ALPHA, size=64):
    """Writes a power-law subset of scikit-learn's digits as PNGs; returns ``[(path, digit)]``.

    Digit c keeps its first ``int(largest * (c + 1) ** -alpha)`` images, upscaled to
    ``size`` x ``size`` as dark ink on white, so the App shows them legibly.
    """
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    files = []
    for digit in range(N_CLASSES):
        keep = np.flatnonzero(digits.target == digit)[: int(largest * (digit + 1) ** -alpha)]
        (folder / str(digit)).mkdir(parents=True, exist_ok=True)
        for index in keep:
            path = folder / str(digit) / f"{index:04d}.png"
            if not path.is_file():
                ink = (255 - digits.images[index] * (255 / 16)).astype(np.uint8)
                Image.fromarray(ink).resize((size, size), Image.Resampling.BICUBIC).save(path)
            files.append((str(path), str(digit)))
    return files


def build_dataset(files):
    import fiftyone as fo

    if fo.dataset_exists(DATASET_NAME):
        fo.delete_dataset(DATASET_NAME)
    dataset = fo.Dataset(DATASET_NAME, persistent=True)
    dataset.add_samples([fo.Sample(filepath=p, ground_truth=fo.Classification(label=d)) for p, d in files])
    return dataset


def print_table(dataset, runs):
    truth = dataset.count_values("ground_truth.label")
    print(f"\n{len(dataset)} images, ground-truth class sizes: {sorted(truth.values(), reverse=True)}")
    print(f"{'method':<11} {'accuracy':>8} {'NMI':>6} {'ARI':>6} {'gamma':>6} {'alpha':>6} {'fit a':>6}  cluster sizes | N * Pi(fitted alpha)")
    for results in runs:
        e = results.evaluation
        expected = [round(results.n_samples * p) for p in results.fitted_prior]
        gamma = "-" if results.gamma is None else f"{results.gamma:g}"
        alpha = "-" if results.alpha is None or results.method != "pet-turtle" else f"{results.alpha:g}"
        print(
            f"{results.method:<11} {e['accuracy']:>8.3f} {e['nmi']:>6.3f} {e['ari']:>6.3f} {gamma:>6} "
            f"{alpha:>6} {results.fitted_alpha:>6.2f}  {results.cluster_sizes} | {expected}"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m petturtle.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--headless", action="store_true", help="do not open the App; print how to open it")
    parser.add_argument("--port", type=int, default=5151, help="port of the FiftyOne App")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)

    import fiftyone as fo

    import petturtle

    started = time.perf_counter()
    files = write_digit_images(images_folder())
    dataset = build_dataset(files)
    print(f"dataset {DATASET_NAME!r}: {len(dataset)} digit images in {images_folder()}")
    petturtle.compute_embeddings(
        dataset, model="efficientnet-lite0", embeddings_field="embeddings", device=args.device
    )
    # gamma and alpha are left to the label-free search over the paper's grids.
    runs = []
    # PET-TURTLE runs last: the panel opens on the newest run.
    for method, label_field in reversed(METHODS):
        print(f"clustering with {method} ...")
        runs.append(petturtle.compute_clusters(
            dataset, N_CLASSES, embeddings="embeddings", method=method, label_field=label_field,
            gt_field="ground_truth", random_state=0, device=args.device,
        ))
    print_table(dataset, runs[::-1])
    print(f"\ndone in {time.perf_counter() - started:.0f} s")

    plugins = plugins_folder()
    if args.headless:
        print(
            f"\nOpen it in the App, with the cluster sizes panel beside the samples, with:\n"
            f"  FIFTYONE_PLUGINS_DIR={plugins} python -c \"import fiftyone as fo; "
            f"from petturtle.demo import app_layout; fo.launch_app(fo.load_dataset('{DATASET_NAME}'), "
            f"spaces=app_layout(), port={args.port}).wait()\"\n"
            f"then color by or filter on the fields {[f for _, f in METHODS]}."
        )
        return
    # The App server reads the plugins folder from the environment when it starts.
    os.environ["FIFTYONE_PLUGINS_DIR"] = fo.config.plugins_dir = str(plugins)
    session = fo.launch_app(dataset, port=args.port, spaces=app_layout())
    print(f"The App is at http://localhost:{args.port} (Ctrl+C to quit)")
    session.wait()


def plugins_folder():
    """A plugins folder where the App finds this package's plugin: the configured one when it
    already holds the plugin, else a folder in the demo's cache holding a link to the clone."""
    import fiftyone as fo
    import fiftyone.plugins as fop

    configured = fo.config.plugins_dir
    if configured and any(p.name == PLUGIN_NAME for p in fop.list_plugins()):
        return Path(configured)
    clone = Path(__file__).resolve().parents[1]
    if not (clone / "fiftyone.yml").exists():
        raise RuntimeError(
            "the App's cluster sizes panel comes from this repository's plugin, which this "
            "installation lacks: install the plugin (see README.md, 'Using it from the FiftyOne "
            "App') or run the demo with --headless"
        )
    folder = images_folder().parent / "plugins"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "pet-turtle"
    if not link.is_symlink() or link.resolve() != clone:
        link.unlink(missing_ok=True)
        link.symlink_to(clone, target_is_directory=True)
    return folder


def app_layout():
    """The samples grid with the cluster sizes panel beside it."""
    import fiftyone as fo

    return fo.Space(
        children=[fo.Panel(type="Samples", pinned=True), fo.Panel(type=PANEL_NAME)],
        orientation="horizontal",
    )


if __name__ == "__main__":
    main()
