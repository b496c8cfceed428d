"""The forked process that runs limited trials one after another (metaconf.targets.smac.trial_process).

Real processes, real limits: a child that keeps its state between trials, a wall-time limit that kills it (and
what it started), an address-space limit that turns an allocation into MEMORYOUT, crashes of the child.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import psutil
import pynisher
import pytest

from metaconf.targets.smac import trial_process as tp
from metaconf.targets.smac.trial_process import (
    TrialProcess,
    TrialProcessDied,
    close_trial_processes,
    trial_process_for,
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="trials are forked on Linux only")

CALLS: list[int] = []
"""Grows in the child; the parent's copy stays empty."""


def trial(action: str, arg: Any = None) -> Any:
    """What a trial does, chosen by the test."""
    if action == "count":
        CALLS.append(1)
        return len(CALLS)
    if action == "pid":
        return os.getpid()
    if action == "sleep":
        time.sleep(arg)
        return "slept"
    if action == "allocate_mb":
        block = np.ones(arg * 1024**2 // 8)
        return int(block.nbytes // 1024**2)
    if action == "raise":
        raise ValueError(f"bad value {arg}")
    if action == "raise_memory_error":
        raise MemoryError
    if action == "raise_unpicklable":

        class Local(Exception):
            pass

        raise Local("defined inside the trial")
    if action == "exit":
        os._exit(arg)
    if action == "kill_self":
        os.kill(os.getpid(), signal.SIGKILL)
    if action == "spawn_and_hang":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        with open(arg, "w") as handle:
            handle.write(str(child.pid))
        time.sleep(60)
    raise AssertionError(action)


@pytest.fixture
def worker() -> Iterator[TrialProcess]:
    process = TrialProcess(trial)
    yield process
    process.close()


def test_trials_run_in_one_child_that_keeps_its_state(worker: TrialProcess) -> None:
    assert [worker.call(("count",), wall_time=10, memory_mb=None) for _ in range(5)] == [1, 2, 3, 4, 5]
    assert CALLS == []  # counted in the child, not here
    pids = {worker.call(("pid",), wall_time=10, memory_mb=None) for _ in range(3)}
    assert len(pids) == 1 and os.getpid() not in pids
    assert worker.forks == 1


def test_a_trial_over_the_wall_time_is_a_timeout_and_the_next_trial_gets_a_new_child(
    worker: TrialProcess,
) -> None:
    first = worker.call(("pid",), wall_time=10, memory_mb=None)
    started = time.monotonic()
    with pytest.raises(pynisher.WallTimeoutException, match=r"longer than 0\.5 s"):
        worker.call(("sleep", 30), wall_time=0.5, memory_mb=None)
    assert time.monotonic() - started < 5
    assert not psutil.pid_exists(first) or psutil.Process(first).status() == psutil.STATUS_ZOMBIE
    assert worker.call(("sleep", 0.01), wall_time=10, memory_mb=None) == "slept"
    assert worker.forks == 2


def test_a_timeout_kills_what_the_trial_started(worker: TrialProcess, tmp_path: Any) -> None:
    pid_file = tmp_path / "grandchild.pid"
    with pytest.raises(pynisher.WallTimeoutException):
        worker.call(("spawn_and_hang", str(pid_file)), wall_time=2, memory_mb=None)
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while psutil.pid_exists(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    gone = not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE
    assert gone


def test_the_memory_limit_is_what_one_trial_may_allocate_beyond_the_child(worker: TrialProcess) -> None:
    """300 MB is far below the address space of a process that imported numpy and pytest, so the limit must be
    relative to it; 2 GB in one trial is over it, and the next trial starts in a fresh child."""
    assert worker.call(("allocate_mb", 100), wall_time=30, memory_mb=300) == 100
    with pytest.raises(pynisher.MemoryLimitException, match="more than 300 MB") as raised:
        worker.call(("allocate_mb", 2048), wall_time=30, memory_mb=300)
    assert isinstance(raised.value, MemoryError)
    assert "MemoryError" in str(raised.value.__cause__)  # the child's traceback
    assert worker.forks == 1
    # The limit is lifted after the trial that set it: without one, the next child allocates 2 GB.
    assert worker.call(("allocate_mb", 2048), wall_time=30, memory_mb=None) == 2048
    assert worker.forks == 2


def test_a_trial_error_is_raised_with_its_type_and_the_childs_traceback(worker: TrialProcess) -> None:
    with pytest.raises(ValueError, match="bad value 3") as raised:
        worker.call(("raise", 3), wall_time=10, memory_mb=None)
    assert 'raise ValueError(f"bad value {arg}")' in str(raised.value.__cause__)
    with pytest.raises(TrialProcessDied, match="Local: defined inside the trial"):
        worker.call(("raise_unpicklable",), wall_time=10, memory_mb=None)
    assert worker.call(("count",), wall_time=10, memory_mb=None) == 1
    assert worker.forks == 1  # an error in the trial does not end the child


def test_a_memory_error_without_a_memory_limit_is_still_memoryout(worker: TrialProcess) -> None:
    with pytest.raises(pynisher.MemoryLimitException, match="more memory than the machine has"):
        worker.call(("raise_memory_error",), wall_time=10, memory_mb=None)
    assert worker.call(("count",), wall_time=10, memory_mb=None) == 1
    assert worker.forks == 2  # a fresh child after a MemoryError


@pytest.mark.parametrize(("action", "arg", "why"), [("exit", 3, "exit code 3"), ("kill_self", None, "SIGKILL")])
def test_a_child_that_dies_is_a_crash_and_is_replaced(worker: TrialProcess, action: str, arg: Any, why: str) -> None:
    with pytest.raises(TrialProcessDied, match=why):
        worker.call((action, arg), wall_time=10, memory_mb=None)
    assert worker.call(("count",), wall_time=10, memory_mb=None) == 1
    assert worker.forks == 2


def test_sigint_does_not_stop_the_running_trial(worker: TrialProcess) -> None:
    """Ctrl-C reaches every process of the terminal's group; metaconf stops after the running trial."""
    child = worker.call(("pid",), wall_time=10, memory_mb=None)
    timer = subprocess.Popen(
        [sys.executable, "-c", f"import os, signal, time; time.sleep(0.5); os.kill({child}, signal.SIGINT)"]
    )
    assert worker.call(("sleep", 1.5), wall_time=10, memory_mb=None) == "slept"
    timer.wait(10)
    assert worker.forks == 1


def test_an_interrupt_while_waiting_leaves_no_child(worker: TrialProcess) -> None:
    child = worker.call(("pid",), wall_time=10, memory_mb=None)

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(KeyboardInterrupt):
            worker.call(("sleep", 30), wall_time=60, memory_mb=None)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert not worker.alive
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE


def test_each_thread_keeps_one_process_per_run_and_all_are_closed_at_the_end() -> None:
    first = trial_process_for("run-a", trial)
    assert trial_process_for("run-a", trial) is first
    pid = first.call(("pid",), wall_time=10, memory_mb=None)
    second = trial_process_for("run-b", trial)  # a new run in this thread ends the previous one's child
    assert second is not first and not first.alive
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    second.call(("pid",), wall_time=10, memory_mb=None)
    close_trial_processes()
    assert not second.alive and tp._PROCESSES == {}
