"""Shared fixtures: single-threaded torch, throw-away datasets, small images and the shared data."""

import os
import tarfile
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch

torch.set_num_threads(1)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CIFAR_TAR = SHARED / "data" / "cifar10-test-jpg.tar"
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
# Small schedules keep every fit in the tests to about a second.
FAST_ENGINE = {"n_iter": 30, "inner_steps": 5, "cv_folds": 3}


def _needs_database():
    if not os.environ.get("FIFTYONE_DATABASE_URI"):
        pytest.skip("needs a database: run through `bash scripts/with-mongod.sh` (as `make test` does)")


@pytest.fixture
def make_dataset():
    """``make_dataset()`` -> a new empty, uniquely named fiftyone Dataset, deleted after the test."""
    _needs_database()
    import fiftyone as fo

    created = []

    def make():
        dataset = fo.Dataset(f"petturtle-test-{uuid.uuid4().hex[:12]}")
        created.append(dataset)
        return dataset

    yield make
    for dataset in created:
        if fo.dataset_exists(dataset.name):
            fo.delete_dataset(dataset.name)


@pytest.fixture(scope="session")
def image_files(tmp_path_factory):
    """Twelve small PNGs of three colors (four each), as ``[(path, color)]``."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    files = []
    for color, rgb in {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}.items():
        for i in range(4):
            pixels = np.clip(np.array(rgb) + rng.normal(0, 20, (40, 40, 3)), 0, 255).astype(np.uint8)
            path = folder / f"{color}_{i}.png"
            Image.fromarray(pixels).save(path)
            files.append((str(path), color))
    return files


@pytest.fixture(scope="session")
def cifar_power_law_files(tmp_path_factory):
    """A CIFAR-10 power-law subset from ../shared (first ``int(60 * (c+1)**-1)`` files of class c,
    174 images), as ``[(path, class)]``; skips when ../shared is absent."""
    if not CIFAR_TAR.is_file():
        pytest.skip(f"needs the shared CIFAR-10 JPEGs at {CIFAR_TAR} (absent in a fresh clone)")
    keep = {}
    with tarfile.open(CIFAR_TAR) as tar:
        names = sorted(m.name for m in tar.getmembers() if m.isfile() and m.name.endswith(".jpg"))
        for c, cls in enumerate(CIFAR_CLASSES):
            in_class = [n for n in names if n.split("/")[-2] == cls]
            keep.update({n: cls for n in in_class[: int(60 * (c + 1) ** -1.0)]})
        folder = tmp_path_factory.mktemp("cifar")
        tar.extractall(folder, members=[tar.getmember(n) for n in keep], filter="data")
    return [(str(folder / n), cls) for n, cls in keep.items()]


@pytest.fixture(scope="module")
def plugin_installed(tmp_path_factory):
    """Points FiftyOne at a plugins folder holding this repository, for one test module."""
    import fiftyone as fo
    from browser.data import plugins_dir_with_repo

    previous = fo.config.plugins_dir
    fo.config.plugins_dir = plugins_dir_with_repo(str(tmp_path_factory.mktemp("plugins")))
    yield
    fo.config.plugins_dir = previous


@pytest.fixture
def dataset(tmp_path):
    """The plugin tests' dataset: real PNGs in imbalanced classes, deleted after the test."""
    _needs_database()
    from browser.data import make_dataset as make_image_dataset

    dataset = make_image_dataset(f"plugin-{uuid.uuid4().hex[:8]}", str(tmp_path))
    yield dataset
    dataset.delete()
