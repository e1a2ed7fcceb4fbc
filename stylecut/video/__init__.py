"""Video I/O: probe a clip, decode it chunk by chunk, encode and remux the result.

Everything that touches ffmpeg or decord lives in this package, so the rest of
stylecut only sees ``probe.VideoInfo``, RGB frames in display orientation (uint8,
uint16 for footage deeper than 8 bits) from ``decode`` (the one frame reader, ``FrameReader``, and ``iter_frames``),
``encode.VideoWriter`` (configured by ``encode_settings.EncodeSettings``) and
``remux.finalize``.
Import from the submodules (``from stylecut.video.probe import probe``): the
package re-exports nothing, so the function ``probe`` never shadows its module.
"""
