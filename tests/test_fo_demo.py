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
