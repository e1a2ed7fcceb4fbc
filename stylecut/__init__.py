"""stylecut: offline batch video style transfer for video editors."""

__version__ = "0.1.0"
