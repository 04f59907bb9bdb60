"""Run one ``between`` command and report its peak resident memory.

python -m bench.peak verify        # prints the command's output, then "peak-kb N" on stderr
"""

from __future__ import annotations

import resource
import sys


def peak_kb() -> int:
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
    from between.cli import build_cli

    code = 0
    try:
        build_cli()(args=sys.argv[1:], prog_name="between")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    finally:
        print(f"peak-kb {peak_kb()}", file=sys.stderr)
    sys.exit(code)


if __name__ == "__main__":
    main()
