"""compute_embeddings: open_clip loading (tiny random-weight model), the offline encoder, skipping."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import petturtle
from petturtle.fo.embeddings import UNREADABLE_TAG

TINY_CLIP = "petturtle-test-tiny-clip"
TINY_CONFIG = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 16},
    "text_cfg": {"context_length": 8, "vocab_size": 49408, "width": 16, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    """Registers a tiny random-weight open_clip architecture; returns a checkpoint of it."""
    import open_clip

    folder = tmp_path_factory.mktemp("tiny_clip")
    (folder / f"{TINY_CLIP}.json").write_text(json.dumps(TINY_CONFIG))
    open_clip.add_model_config(folder)
    torch.manual_seed(0)
    checkpoint = folder / "tiny.pt"
    torch.save({"state_dict": open_clip.create_model(TINY_CLIP).state_dict()}, checkpoint)
    return str(checkpoint)


def _image_dataset(make_dataset, image_files):
    import fiftyone as fo

    dataset = make_dataset()
    dataset.add_samples([fo.Sample(filepath=p, color=fo.Classification(label=c)) for p, c in image_files])
    return dataset


def test_open_clip_checkpoint_by_path(make_dataset, image_files, tiny_clip):
    dataset = _image_dataset(make_dataset, image_files)
    calls = []
    results = petturtle.compute_embeddings(
        dataset, model=TINY_CLIP, pretrained=tiny_clip, embeddings_field="emb",
        batch_size=5, num_workers=1, progress=lambda *a: calls.append(a),
    )
    assert (results.n_embedded, results.dim, results.n_unreadable) == (12, 16, 0)
    vectors = np.stack(dataset.values("emb"))
    assert vectors.shape == (12, 16) and vectors.dtype == np.float32 and np.isfinite(vectors).all()
    assert calls[-1] == ("embed", 12, 12)
    # The same weights give the same vectors with no DataLoader workers.
    again = petturtle.compute_embeddings(
        dataset, model=TINY_CLIP, pretrained=tiny_clip, embeddings_field="emb2", num_workers=0
    )
    assert again.n_embedded == 12
    np.testing.assert_allclose(np.stack(dataset.values("emb2")), vectors, rtol=1e-4, atol=1e-5)


def test_random_weights_and_skipping_embedded_samples(make_dataset, image_files, tiny_clip):
    dataset = _image_dataset(make_dataset, image_files)
    first = dataset.limit(5)
    petturtle.compute_embeddings(first, model=TINY_CLIP, pretrained=None, embeddings_field="emb", num_workers=0)
    before = dict(zip(*first.values(["id", "emb"])))
    results = petturtle.compute_embeddings(dataset, model=TINY_CLIP, pretrained=None, embeddings_field="emb", num_workers=0)
    assert (results.n_embedded, results.n_already_embedded) == (7, 5)
    after = dict(zip(*dataset.values(["id", "emb"])))
    assert all(np.array_equal(after[i], v) for i, v in before.items())
    assert all(v is not None for v in after.values())


def test_offline_encoder_and_unreadable_images(make_dataset, image_files, tmp_path):
    import fiftyone as fo

    dataset = _image_dataset(make_dataset, image_files[:3])
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    bad_ids = [dataset.add_sample(fo.Sample(filepath=str(broken))), dataset.add_sample(fo.Sample(filepath=str(tmp_path / "missing.png")))]
    results = petturtle.compute_embeddings(dataset, model="efficientnet-lite0", embeddings_field="effnet", num_workers=1)
    assert (results.n_embedded, results.dim) == (3, 1280)
    assert sorted(results.unreadable_ids) == sorted(bad_ids)
    assert sorted(dataset.match_tags(UNREADABLE_TAG).values("id")) == sorted(bad_ids)
    assert dataset.count("effnet") == 3


def test_non_image_media_is_refused(make_dataset, tmp_path):
    import fiftyone as fo

    dataset = make_dataset()
    dataset.add_sample(fo.Sample(filepath=str(tmp_path / "clip.mp4")))
    with pytest.raises(ValueError, match="image datasets"):
        petturtle.compute_embeddings(dataset, model="efficientnet-lite0")
    assert "clip_embeddings" not in dataset.get_field_schema()


def test_unknown_model_and_tag_are_named():
    from petturtle.fo.encoders import load_encoder

    with pytest.raises(ValueError, match="unknown model 'no-such-net'"):
        load_encoder("no-such-net", None, torch.device("cpu"))
    with pytest.raises(ValueError, match="neither a pretrained tag"):
        load_encoder("ViT-B-32", "no-such-tag", torch.device("cpu"))


def test_a_model_of_another_width_is_refused_before_it_writes(make_dataset, image_files):
    dataset = _image_dataset(make_dataset, image_files)
    first = dataset.first()
    first["emb"] = np.ones(5, dtype=np.float32)  # from some 5-d model
    first.save()
    before = dataset.values("emb")
    with pytest.raises(ValueError, match="gives 16-d vectors, but field 'emb' already holds 5-d ones"):
        petturtle.compute_embeddings(dataset, model=TINY_CLIP, pretrained=None, embeddings_field="emb", num_workers=0)
    after = dataset.values("emb")
    assert [None if v is None else v.tolist() for v in after] == [None if v is None else v.tolist() for v in before]


def test_default_weights_follow_the_architecture():
    from petturtle.fo.encoders import default_pretrained

    assert default_pretrained("ViT-B-32") == "laion2b_s34b_b79k"
    assert default_pretrained("RN50x64") == "openai"  # the paper's encoder has no LAION weights
    assert default_pretrained("efficientnet-lite0") is None
    assert default_pretrained("ViT-B-16").startswith("laion2b")  # its LAION-2B tag is another one
    with pytest.raises(ValueError, match="no pretrained weights for 'coca_base'"):
        default_pretrained("coca_base")


def test_download_failure_names_the_ways_out():
    """With the Hugging Face hub offline, asking for CLIP weights gives an actionable error."""
    code = (
        "import torch; from petturtle.fo.encoders import load_encoder\n"
        "for model, tag in [('ViT-B-32', 'laion2b_s34b_b79k'), ('hf-hub:laion/CLIP-ViT-B-32-laion2B-s34B-b79K', None)]:\n"
        "    try:\n        load_encoder(model, tag, torch.device('cpu'))\n"
        "    except RuntimeError as e:\n        print(e)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": "/nonexistent-petturtle-test-cache"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120).stdout
    assert out.count("could not download") == 2 and "local checkpoint" in out and "efficientnet-lite0" in out
