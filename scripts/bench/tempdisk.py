"""tempdisk.py -- the temporary disk a loader uses: the apparent size of
the files under its TMPDIR (what `du --apparent-size` counts), sampled
every 50 ms by a thread while it runs. A sample, not a bound: a peak
between two samples is missed, so the figure can only be low, never high.
memc_load keeps its key digests there (8 bytes a record)."""

import os
import threading

INTERVAL = 0.05  # seconds between samples


def size(path):
    """Bytes in the files under path now; files that go while it counts,
    or a path that is not there, count 0."""
    total = 0
    try:
        entries = list(os.scandir(path))
    except OSError:
        return 0
    for e in entries:
        try:
            if e.is_dir(follow_symlinks=False):
                total += size(e.path)
            else:
                total += e.stat(follow_symlinks=False).st_size
        except OSError:
            pass
    return total


class Peak:
    """A context manager sampling size(path) until the block ends; peak,
    in bytes, is the largest sample."""

    def __init__(self, path):
        self.path = path
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while True:
            self.peak = max(self.peak, size(self.path))
            if self._stop.wait(INTERVAL):
                return

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, size(self.path))
