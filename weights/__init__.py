"""Bundled style weights: a data package (``stylecut_weights``), listed in manifest.json."""
