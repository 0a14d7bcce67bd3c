"""bench -- `make bench`: memc_load's speed against its serial mode and a baseline.

Run: python3 scripts/bench [OPTIONS] (or python3 -m bench from scripts/);
--help lists the options.

Generates a data set with data/generate.py (once; cached with --keep-data),
then runs every variant several times, interleaved run by run (run 1 of every
variant, then run 2, ...) so that machine noise hits all of them alike. Each
run gets four fresh memcached servers (scripts/memcached.py, free loopback
ports) and a fresh directory holding the inputs, because loaders rename
what they load. After each run every expected key is read back from the
server of its type and its value compared with the record of the key's
last line in the newest file that has it, the serial original's state
(by an 8-byte digest of each, values.py); a run with a missing key, a
wrong or stale value or a non-zero exit status is FAILED, and the bench
then exits 1. A wrong value is traced to the line it came from, so the
report says when it is an older file's.

Repeated keys (--repeat PCT, default 0: every key in one file only): in
each file after the first, PCT% of the lines, chosen at random, take the
key (dev_type:dev_id) of a line of an older file, any older file alike,
with apps and coordinates of their own, so that which file's value ends
up stored shows (repeats.py). The files keep their equal sizes, so the
newer ones are loaded beside the older ones rather than finishing first.
The data set's cache name includes PCT (OUT/data/f4-l200000-s1-r50).
For example: make bench BENCH_ARGS='--repeat 50 --variants w1,wN'.

Variants (--variants, comma-separated):
    serial      memc_load --serial
    wK          memc_load -w K (K a number)
    wN          memc_load -w N, N = online CPUs
    NAME-zlib   NAME with MEMC_LOAD_INFLATE=zlib in the environment (the zlib
                inflate path instead of ISA-L)
    NAME-text   NAME with --protocol text (also -meta, -auto): the servers'
                cost of the plain set path beside the meta protocol's
    NAME-vF     NAME with --verify F: read back the share F of the records
                (without it, memc_load's default, 0.001)
Every memc_load run gets -q, the four servers and -p 'DIR/*.tsv.gz'.

A baseline (--baseline CMD, or the BASELINE environment variable) is a shell
command; these placeholders are replaced by plain text (not quoted: the
paths are checked to hold no spaces or shell metacharacters, but {pattern}
holds a '*', so quote it):
    {idfa} {gaid} {adid} {dvid}   HOST:PORT of each fresh server
    {pattern}                     DIR/*.tsv.gz
    {dir}                         DIR, the directory holding this run's inputs
    {files}                       the input files, space-separated
For example:
    BASELINE='/usr/bin/python3 scripts/memc_load_ref.py --idfa {idfa}
      --gaid {gaid} --adid {adid} --dvid {dvid} --pattern "{pattern}"'
--python-baseline uses exactly that (scripts/memc_load_ref.py, a Python
reimplementation of the original memc_load.py algorithm) and runs it once
unless --baseline-runs says otherwise.

`gzip -dc FILES > /dev/null`, and `igzip -dc` (ISA-L's, Debian's isal
package) when it is installed, are timed in the same bench, as often as the
variants, as the floor set by decompression alone; the loader's CPU is
given as a ratio to igzip's, and the servers' CPU per million records next
to the loader's.

Measured per run, by a small C helper compiled at startup (runwait.py)
that forks the command and waits for it with wait4: wall time
(monotonic clock, fork to reaping), CPU user+sys of the command and every
process it reaped (a loader's workers count once it reaps them), and the peak
RSS of the largest of those processes (ru_maxrss); also the memcached
servers' own CPU during the run (/proc/PID/stat). The memc_load binary is
copied at startup, so a rebuild during the bench changes nothing.

Newest wins, per run: every memc_load run writes --stats-json to
OUT/logs/NAME-runN.json, and the report gives the median of its totals'
"resent" (the records its repairs sent again; 0 at -w 1 and --serial,
which overlap nothing). Every loader run gets TMPDIR set to a directory of
its own, where memc_load keeps its key digests (8 bytes a record); a
thread samples the size of the files there every 50 ms while the loader
runs, and "peak temp MB" is the largest sample of any run: a sample, so a
short peak between two samples is missed and the true peak can only be
higher. A file left there after the run makes it FAILED.

Output in --out (default results/): bench.csv (one row per run), summary.csv,
bench.txt (the table and the machine), bench.png (gnuplot), logs/ (each run's
stderr, and each memc_load run's --stats-json) and, with --keep-data, data/
(the cached data sets, their keys and the digests of their values).

The modules, one concern each, in the order a bench uses them:
    cli        the options, checked; the variants they name (plan)
    plan       what is timed: variants, the baseline, gzip and igzip
    workspace  the bench's directories and its snapshot of the binary
    dataset    generating and caching the data set; repeats: which lines
               take older keys; records: what a line stores; values: a
               stored value's digest
    servers    four fresh memcached servers per run, and their CPU
    runwait    timing one command; runs: one run of a variant, checked;
               tempdisk: the size of its TMPDIR, sampled
    check      after a run: every key there, holding its newest value
    stats      medians over the runs, speed-ups; targets: issue 10's
    report     the table and the text; plot: bench.png; machine: the setup
    main       the wiring
"""
