"""stylecut: offline batch video style transfer for video editors."""

from stylecut.offline import stay_offline

__version__ = "0.1.0"

stay_offline()  # before any library that could reach the network is imported, in every process
