"""The processes of one stack, for the benches' CPU accounting.

A process belongs to the stack when its command line names the checkout or the stack's data
directory, or it is PostgreSQL's postmaster or one of its backends (other stacks on the same
machine are left out).
"""
import os
import statistics
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


GROUPS = (("spin", "spin"), ("wasmtime", "wasmtime"), ("daprd", "daprd"), ("postgres", "postgres"),
          ("java", "kafka(java)"), ("vegeta", "vegeta"), ("scheduler", "scheduler"))


def app_of(line):
    """The app a daprd or Spin process serves (its --app-id, or its Spin state directory)."""
    args = line.split()
    for flag in ("--app-id", "--state-dir"):
        if flag in args and args.index(flag) + 1 < len(args):
            return os.path.basename(args[args.index(flag) + 1])
    return "?"


def group_of(comm, line, by_app=False):
    """The benches' name for a process: its program (`GROUPS`, else "other"), and with `by_app`
    the app of a daprd or Spin process too ("daprd:task-api")."""
    g = next((name for prefix, name in GROUPS if comm.startswith(prefix)), "other")
    return f"{g}:{app_of(line)}" if by_app and g in ("spin", "daprd") else g


def idle_cores(work, load):
    """Each group's median cores over the five windows between `idle_samples`' snapshots in
    `work` (each read by `load` as {group: CPU seconds}), so that one burst of background work
    (the scheduler compacting, a recurring job) is not taken for the stack's idle baseline."""
    snapshots = [load(f"{work}/idle-{i}") for i in range(6)]
    times = [float(open(f"{work}/idle-{i}.t").read()) for i in range(6)]
    windows = list(zip(snapshots, snapshots[1:], [b - a for a, b in zip(times, times[1:])]))
    return {g: statistics.median(max(b.get(g, 0) - a.get(g, 0), 0) / secs for a, b, secs in windows)
            for g in snapshots[-1]}
