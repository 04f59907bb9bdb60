"""Run one ``between`` command and report its peak resident memory.

python -m bench.peak verify        # prints the command's output, then "peak-kb N" on stderr

The command runs exactly as the ``between`` script runs it (``between.cli:main``), in this
process, so its wall time is the command's too.
"""

from __future__ import annotations

import resource
import sys


def peak_kb() -> int:
    """The largest high-water mark of this process and of the worker processes it ran
    (``audit.fanout``): the peak of any single process, as ``farm-bench`` reports it."""
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(_own_peak_kb(), workers)


def _own_peak_kb() -> int:
    """This process image's high-water mark (VmHWM). Unlike ru_maxrss it starts afresh at
    exec, so a large parent that forked us does not count."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    from between.cli import main as between

    sys.argv = ["between", *sys.argv[1:]]
    code = 0
    try:
        between()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    finally:
        sys.stdout.flush()
        print(f"peak-kb {peak_kb()}", file=sys.stderr)
    sys.exit(code)


if __name__ == "__main__":
    main()
