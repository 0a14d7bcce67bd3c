"""servers.py -- four fresh memcached servers for one run, one per device
type, and the CPU they use. Started and stopped through scripts/memcached.py,
so only servers the bench started are ever stopped."""

import contextlib
import os

from .common import DEV_TYPES, HOST
from .dataset import key_count
import memcached  # noqa: E402  scripts/memcached.py, on sys.path through bench.common


class Four:
    """The servers of one run: ports and addr ("HOST:PORT") by type, pids."""

    def __init__(self, started):
        self.pids = [pid for _, pid in started]
        self.ports = {t: port for t, (port, _) in zip(DEV_TYPES, started)}
        self.addr = {t: "%s:%d" % (HOST, self.ports[t]) for t in DEV_TYPES}

    def cpu(self):
        """CPU seconds (user+sys) the four have used so far."""
        return process_cpu(self.pids)


@contextlib.contextmanager
def fresh(ctx):
    """Four servers with ctx's -t and -m, stopped when the block ends."""
    started = []
    try:
        started = memcached.start(4, extra_args=["-t", str(ctx.args.memcached_threads),
                                                 "-m", str(ctx.memcached_mb)])
        yield Four(started)
    finally:
        if started:
            memcached.stop(pid for _, pid in started)


def memory_mb(keys):
    """-m for servers holding keys ({type: newline-separated keys}): about
    250 bytes per item of this data; twice that, plus slack."""
    most = max(key_count(v) for v in keys.values())
    return max(64, most * 500 // 2**20 + 64)


def process_cpu(pids):
    """CPU seconds (user+sys) the processes have used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick
