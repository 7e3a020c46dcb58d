"""Helpers of the plugin tests: a synthetic image dataset, the plugin on a plugins path, and
the FiftyOne App served on localhost for headless chromium."""
