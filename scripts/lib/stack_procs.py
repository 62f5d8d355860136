"""The processes of one stack, for the benches' CPU accounting.

A process belongs to the stack when its command line names the checkout or the stack's data
directory, or it is PostgreSQL's postmaster or one of its backends (other stacks on the same
machine are left out).
"""
import os
from collections import namedtuple

Process = namedtuple("Process", "pid ppid comm line seconds")


def stack_processes(root, stack_dir, postmaster):
    """Yields a Process (pid, parent pid, comm, command line joined by spaces, CPU seconds so
    far) for each process of the stack."""
    hz = os.sysconf("SC_CLK_TCK")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            raw = open(f"/proc/{pid}/stat").read()
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
        except OSError:
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        line = " ".join(cmd.split("\0"))
        if not (root in line or stack_dir in line or pid == postmaster or fields[1] == postmaster):
            continue
        yield Process(pid, fields[1], comm, line, (int(fields[11]) + int(fields[12])) / hz)
