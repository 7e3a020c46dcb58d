"""A small synthetic dataset: real PNG files, well-separated embeddings, imbalanced classes."""

import os

import numpy as np
from PIL import Image

import fiftyone as fo

# class name -> (number of samples, RGB colour of its images); imbalanced on purpose
CLASSES = {"red": (20, (220, 50, 47)), "green": (12, (133, 153, 0)), "blue": (8, (38, 139, 210)), "gold": (5, (181, 137, 0))}
EMBEDDING_DIM = 16


def write_images(directory):
    """One PNG per sample, a coloured square with a little noise; returns (filepath, class) pairs."""
    rng = np.random.default_rng(0)
    items = []
    for name, (count, rgb) in CLASSES.items():
        for i in range(count):
            pixels = np.clip(np.array(rgb) + rng.normal(0, 18, (64, 64, 3)), 0, 255).astype(np.uint8)
            path = os.path.join(directory, f"{name}_{i:02d}.png")
            Image.fromarray(pixels).save(path)
            items.append((path, name))
    return items


def make_dataset(name, image_dir):
    """A persistent-free dataset with ``ground_truth`` and an ``embeddings`` vector field whose
    classes are separated blobs, so any clustering method recovers them."""
    rng = np.random.default_rng(1)
    centers = {name: rng.normal(0, 1, EMBEDDING_DIM) * 6 for name in CLASSES}
    dataset = fo.Dataset(name)
    dataset.add_samples(
        fo.Sample(
            filepath=path,
            ground_truth=fo.Classification(label=label),
            embeddings=(centers[label] + rng.normal(0, 0.3, EMBEDDING_DIM)).astype(np.float32),
        )
        for path, label in write_images(image_dir)
    )
    return dataset


def plugins_dir_with_repo(directory):
    """A plugins directory holding only a symlink to this repository (the plugin's root)."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.symlink(repo, os.path.join(directory, "pet-turtle"))
    return directory
