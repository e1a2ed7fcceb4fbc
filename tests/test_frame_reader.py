"""The one frame reader (stylecut.video.decode.FrameReader): every width decodes as ffmpeg decodes it.

decord pads RGB rows to a CPU-dependent alignment and, when the padded row is
a multiple of the width, returns (h, w, 4)-shaped frames that its batch read
rejects. Which widths hit this depends on the machine (96 and 144 px on a
64-px alignment, 24, 48 and 72 on a 32-px one), so the widths below cover
both alignments and the widths around them.
"""

from __future__ import annotations

import numpy as np
import pytest

from stylecut.errors import MediaError
from stylecut.video.decode import FrameReader

import media

WIDTHS = [24, 48, 66, 72, 96, 98, 130, 144]


@pytest.mark.parametrize("width", WIDTHS)
def test_every_width_reads_as_ffmpeg_decodes_it(make_clip, width):
    clip = make_clip(size=f"{width}x32", frames=6)
    reference = media.decode_reference(clip)
    reader = FrameReader(clip)
    assert len(reader) == 6
    assert np.array_equal(reader.read(range(6)), reference)
    assert np.array_equal(reader.read([4, 1]), reference[[4, 1]])  # any order, with gaps
    assert np.array_equal(reader.spread(3), reference[[0, 2, 5]])


def test_a_file_that_is_no_video_is_one_sentence(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("not a video\n")
    with pytest.raises(MediaError) as err:
        FrameReader(path)
    message = str(err.value)
    assert message == "notes.mp4 is not a readable video: the decoder cannot open it."
