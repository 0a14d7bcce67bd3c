"""common.py -- what every part of the bench shares: paths, names, log().

Importing it puts scripts/ (memcached.py, memc_load_ref.py) and tests/e2e/
(model.py, the documented line rules) on sys.path, for the modules that
use them.
"""

import os
import re
import sys

PACKAGE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.dirname(PACKAGE)
REPO = os.path.dirname(SCRIPTS)
for _dir in (SCRIPTS, os.path.join(REPO, "tests", "e2e")):
    if _dir not in sys.path:
        sys.path.insert(0, _dir)

DEV_TYPES = ("idfa", "gaid", "adid", "dvid")
HOST = "127.0.0.1"
# A path the baseline's placeholders may hold unquoted.
SAFE_PATH = re.compile(r"[A-Za-z0-9_./+:-]+")


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()
