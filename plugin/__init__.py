"""Code of the FiftyOne plugin whose entry point is the repository root's __init__.py."""
