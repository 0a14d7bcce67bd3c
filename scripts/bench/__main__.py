"""python3 scripts/bench [OPTIONS]: run the bench (see __init__.py).

Exit status: 0 when every run is ok, 1 when one FAILED or on an error,
2 on a bad option, 130 when interrupted.
"""

import os
import signal
import subprocess
import sys

if not __package__:
    # Run as a directory, sys.path[0] is scripts/bench: import the package
    # from scripts/ instead, so its modules never shadow the standard ones.
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from bench.common import log  # noqa: E402
from bench.main import main  # noqa: E402


def interrupted(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    # A kill or a lost terminal cleans up as ^C does: servers stopped, temp dirs gone.
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        log("error: %s" % e)
        sys.exit(1)
