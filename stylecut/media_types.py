"""File suffixes stylecut treats as videos or images, shared by apply (folders) and training (media folders)."""

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".avi", ".m4v", ".webm", ".mts", ".mxf"})
