"""Runs a command that dies with the process that started it: sets PR_SET_PDEATHSIG (SIGTERM
when the parent exits), then execs the command in its place.

`payloops dev` starts every child through this instead of a `preexec_fn`: a preexec_fn runs
Python in a child forked from a multi-threaded parent, where a lock another thread held at the
fork (the dynamic loader's, an import lock) never comes free, and the child hangs before exec.

    python -S die_with_parent.py PARENT_PID COMMAND [ARGS...]
"""

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def main() -> None:
    parent, command = int(sys.argv[1]), sys.argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:
        # The parent died before the signal was armed: nothing will stop this child later.
        sys.exit(1)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
