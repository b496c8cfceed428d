"""Per-trial limits in one forked process that runs trial after trial.

pynisher, which SMAC uses for ``trial_walltime_limit`` / ``trial_memory_limit``, forks a new process for every
trial. The trial then starts cold: every cache the Evaluator and scikit-learn build on a first call (encoded
folds, BLAS / OpenMP thread pools, copy-on-write pages) is built again and thrown away with the child.
``benchmarks/components/trial_limits.py`` measures it: a fresh fork per trial took 1.5x the in-process time of a logistic
regression on kr-vs-kp and 2.9x over the built-in space on breast cancer; a 45 s kr-vs-kp search ran ~30 %
fewer trials with the limit on.

:class:`TrialProcess` forks once and keeps the child: it runs each trial sent over a pipe and sends the cost
back. Only a trial that must be stopped ends it:

- over the wall-time limit: the child and its descendants are killed, the trial raises pynisher's
  :class:`~pynisher.WallTimeoutException` (SMAC records TIMEOUT) and the next trial forks a new child;
- ``MemoryError`` under the memory limit: the trial raises pynisher's
  :class:`~pynisher.MemoryLimitException` (SMAC records MEMORYOUT) and the child exits, so the next trial starts
  from a clean heap;
- the child dies (killed by the OS, a crash in native code): the trial raises :class:`TrialProcessDied`
  (CRASHED).

The memory limit is an address-space limit (``RLIMIT_AS``, as pynisher's) set in the child before each trial
to its current address space plus what one trial may use, and lifted after it.

Any other exception of the trial is raised again in the caller with the child's traceback as its cause
(SMAC records CRASHED with the original error, not pynisher's wrapper). SIGINT is ignored in the child: the
run's signal handler stops the search after the running trial, which must finish for that.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.util
import os
import pickle
import signal
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

_CHILD_STOP = None
"""Sent to the child to make it exit."""


class TrialProcessDied(RuntimeError):
    """The trial's process ended without a result (killed by the OS or crashed in native code)."""


class RemoteTraceback(Exception):
    """The traceback of an exception raised in the trial's process, attached as the ``__cause__``."""


def address_space_mb() -> int | None:
    """This process's virtual address space in MB (Linux), or None where it cannot be read."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _limit_address_space(extra_mb: int | None) -> None:
    """Allow this process ``extra_mb`` more address space than it holds now (None: lift the limit)."""
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if extra_mb is None:
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        return
    soft = ((address_space_mb() or 0) + extra_mb) * 1024**2
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _serve(function: Callable[..., Any], conn: Connection) -> None:
    """The child's loop: receive ``(args, memory_mb)``, run ``function(*args)``, send the outcome."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if request is _CHILD_STOP:
            return
        args, memory_mb = request
        out_of_memory = False
        try:
            if memory_mb is not None:
                _limit_address_space(memory_mb)
            try:
                reply: tuple[Any, ...] = ("ok", function(*args))
            finally:
                if memory_mb is not None:
                    _limit_address_space(None)
        except MemoryError:
            out_of_memory = True
            reply = ("memory", traceback.format_exc())
        except BaseException as exc:  # every failure of the trial goes back to the caller
            reply = ("error", _picklable(exc), f"{type(exc).__name__}: {exc}", traceback.format_exc())
        try:
            conn.send(reply)
        except Exception:
            return
        if out_of_memory:
            return  # a fresh child for the next trial: this heap may be fragmented or half-full


def _picklable(exc: BaseException) -> BaseException | None:
    """``exc`` when it survives a pickle round trip (so the caller can raise the same type), else None."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return None
    return exc


class TrialProcess:
    """A forked child that runs ``function(*args)`` for one trial after another, within per-trial limits.

    Not thread-safe: use one per thread (:func:`trial_process_for`). Linux (``fork``) only.
    """

    def __init__(self, function: Callable[..., Any]):
        self.function = function
        self._process: Any = None
        self._conn: Connection | None = None
        self.forks = 0
        """How many children were started (1 for a run without timeouts, memory errors or crashes)."""

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def _start(self) -> None:
        context = multiprocessing.get_context("fork")
        parent_end, child_end = context.Pipe()
        # Not daemonic: a daemonic process may not start processes, and a trial's estimator may (joblib).
        process = context.Process(target=_serve, args=(self.function, child_end), daemon=False)
        process.start()
        child_end.close()
        self._process, self._conn = process, parent_end
        self.forks += 1

    def call(self, args: tuple[Any, ...], wall_time: float | None, memory_mb: int | None) -> Any:
        """``function(*args)`` in the child; raises as described in the module docstring."""
        import pynisher

        if not self.alive:
            self.close()
            self._start()
        conn = self._conn
        assert conn is not None
        try:
            conn.send((args, memory_mb))
            finished = conn.poll(wall_time)
            reply: Any = conn.recv() if finished else None
        except (EOFError, OSError) as exc:
            code = self._exit_code()
            self.close()
            raise TrialProcessDied(f"the trial's process ended without a result ({code})") from exc
        except BaseException:  # KeyboardInterrupt, SystemExit: leave no child behind
            self.kill()
            raise
        if not finished:
            self.kill()
            raise pynisher.WallTimeoutException(f"the trial took longer than {wall_time:g} s")
        kind = reply[0]
        if kind == "ok":
            return reply[1]
        if kind == "memory":
            self.close()
            limit = f"more than {memory_mb} MB" if memory_mb is not None else "more memory than the machine has"
            raise pynisher.MemoryLimitException(f"MemoryError: the trial needed {limit}") from RemoteTraceback(reply[1])
        _, error, description, text = reply
        raise (error if error is not None else TrialProcessDied(description)) from RemoteTraceback(text)

    def _exit_code(self) -> str:
        process = self._process
        if process is None:
            return "not started"
        process.join(1.0)
        code = process.exitcode
        if code is None:
            return "still running"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"killed by {signal.Signals(-code).name}"
        return f"exit code {code}"

    def kill(self) -> None:
        """Kill the child and everything it started (a timed-out trial's joblib workers, too)."""
        process = self._process
        if process is not None and process.is_alive():
            import psutil

            with contextlib.suppress(psutil.Error):
                for child in psutil.Process(process.pid).children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        child.kill()
            process.kill()
        self.close()

    def close(self) -> None:
        """Let an idle child exit (it ends at EOF) and wait for it; kill it if it does not."""
        process, conn = self._process, self._conn
        self._process, self._conn = None, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.send(_CHILD_STOP)
            conn.close()
        if process is not None:
            process.join(5.0)
            if process.is_alive():
                process.kill()
                process.join(5.0)


_PROCESSES: dict[int, tuple[Any, TrialProcess]] = {}
"""Per thread of this process: (the key of what it runs, its TrialProcess)."""
_PROCESSES_LOCK = threading.Lock()


def trial_process_for(key: Any, function: Callable[..., Any]) -> TrialProcess:
    """This thread's trial process for ``key``; one for another key is closed first (a new run)."""
    thread = threading.get_ident()
    with _PROCESSES_LOCK:
        current = _PROCESSES.get(thread)
        if current is not None and current[0] == key:
            return current[1]
        if current is not None:
            current[1].close()
        process = TrialProcess(function)
        _PROCESSES[thread] = (key, process)
        return process


def close_trial_processes() -> None:
    """End every trial process this process started (the end of a run; at exit)."""
    with _PROCESSES_LOCK:
        processes = [process for _, process in _PROCESSES.values()]
        _PROCESSES.clear()
    for process in processes:
        process.close()


def _after_fork_in_child() -> None:
    # A forked process (a trial's child, a worker) does not own its parent's trial processes, and the lock
    # may have been held by another thread at the fork.
    global _PROCESSES_LOCK
    _PROCESSES.clear()
    _PROCESSES_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
# Before multiprocessing joins its non-daemonic children at exit (they would wait for work forever).
multiprocessing.util.Finalize(None, close_trial_processes, exitpriority=100)
