"""The demo's dataset builder: scikit-learn's digits as a power-law set of PNGs."""

from PIL import Image

from petturtle.demo import write_digit_images


def test_digit_images_follow_the_power_law(tmp_path):
    files = write_digit_images(tmp_path, largest=20, alpha=1.0, size=32)
    counts = [sum(d == str(c) for _, d in files) for c in range(10)]
    assert counts == [int(20 * (c + 1) ** -1.0) for c in range(10)]
    with Image.open(files[0][0]) as image:
        assert image.size == (32, 32)
    # A rerun reuses the files it already wrote.
    assert write_digit_images(tmp_path, largest=20, alpha=1.0, size=32) == files


def test_the_app_finds_the_plugin_and_opens_the_panel(tmp_path, monkeypatch):
    import fiftyone as fo
    import fiftyone.plugins as fop

    from petturtle import demo

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(fo.config, "plugins_dir", str(tmp_path / "no-plugins-here"))
    folder = demo.plugins_folder()
    monkeypatch.setattr(fo.config, "plugins_dir", str(folder))
    assert demo.PLUGIN_NAME in [p.name for p in fop.list_plugins()]
    assert demo.plugins_folder() == folder  # found as installed the second time, not relinked
    layout = demo.app_layout()
    assert [child.type for child in layout.children] == ["Samples", demo.PANEL_NAME]
