"""repeats.py -- --repeat PCT: which lines of each newer file take the key
of an older file's line, and which key. Pure, no I/O; the choice depends
only on the seed, the percentage and the keys so far.

File 0 keeps its own keys. In file i > 0, round(PCT% of its lines)
positions are drawn at random, and as many keys drawn, without
repetition, from the distinct keys of files 0 .. i-1 (every older key
alike, whichever file it was first in): no key comes twice from the
draw, and generate.py's own keys never repeat, so within a file a key
is on one line. At 100%, with files of equal size, every newer file
holds exactly the keys of file 0, in another order.
"""

import random


class Repeats:
    """The draws of one data set: pct (0 to 100) and the first file's seed."""

    def __init__(self, pct, seed):
        self.pct = pct
        self.seed = seed

    def plan(self, index, nlines, older):
        """{line position: key} for file index of nlines lines; older: the
        distinct keys of the files before it (any iterable, in a fixed
        order). Empty for file 0 and without --repeat."""
        if index == 0 or not self.pct:
            return {}
        older = list(older)
        count = min(len(older), round(nlines * self.pct / 100))
        rng = random.Random("repeat:%d:%d:%r" % (self.seed, index, self.pct))
        positions = rng.sample(range(nlines), count)
        return dict(zip(positions, rng.sample(older, count)))
