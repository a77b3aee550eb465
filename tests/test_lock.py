"""One robot per output folder: robot/lock.py."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from robot.errors import OutputLocked
from robot.lock import LOCK_FILE, OutputLock, current_holder, read_holder
from tablebot.errors import ExitCode

PROJECT = Path(__file__).resolve().parents[1]
HOLD = ("import sys, time; from pathlib import Path; from robot.lock import OutputLock\n"
        "with OutputLock(Path(sys.argv[1]), 'robot run'):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(120)\n")


def test_the_lock_file_names_its_holder_and_a_second_start_is_refused(tmp_path):
    with OutputLock(tmp_path, "robot run") as lock:
        assert lock.held
        data = json.loads((tmp_path / LOCK_FILE).read_text())
        assert data["pid"] == os.getpid() and data["command"] == "robot run" and data["started_at"].endswith("Z")
        with pytest.raises(OutputLocked) as info:
            OutputLock(tmp_path, "robot run-once").acquire()
        assert info.value.exit_code == ExitCode.LOCKED
        message = str(info.value)
        assert f"robot process {os.getpid()} `robot run`" in message and f"kill {os.getpid()}" in message
        assert str(tmp_path) in message and "output.folder" in message
        assert current_holder(tmp_path).pid == os.getpid()
    assert not lock.held and current_holder(tmp_path) is None
    assert (tmp_path / LOCK_FILE).read_text() == ""  # emptied, not deleted
    with OutputLock(tmp_path):  # free again
        pass


def test_release_twice_is_harmless_and_reacquire_of_a_held_object_is_a_bug(tmp_path):
    lock = OutputLock(tmp_path).acquire()
    with pytest.raises(RuntimeError):
        lock.acquire()
    lock.release()
    lock.release()


def test_another_process_holds_it_until_killed_and_leaves_no_stale_lock(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputLocked, match=f"robot process {holder.pid} `robot run`"):
            OutputLock(tmp_path).acquire()
        assert current_holder(tmp_path).pid == holder.pid
        os.kill(holder.pid, signal.SIGKILL)  # no clean-up at all
        holder.wait(timeout=30)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        holder.stdout.close()
    assert read_holder(tmp_path / LOCK_FILE).pid == holder.pid  # the file still names the dead holder...
    assert current_holder(tmp_path) is None  # ...but the kernel dropped its lock
    with OutputLock(tmp_path):
        assert read_holder(tmp_path / LOCK_FILE).pid == os.getpid()


def test_a_lock_file_with_garbage_still_gives_a_clear_message(tmp_path):
    with OutputLock(tmp_path):
        (tmp_path / LOCK_FILE).write_text("not json")
        with pytest.raises(OutputLocked, match="another robot process"):
            OutputLock(tmp_path).acquire()


def test_run_once_refuses_a_locked_output_folder(write_config, monkeypatch, capsys):
    import robot.cli

    config_path = write_config()
    folder = config_path.parent / "runs"  # write_config sends the output there
    with OutputLock(folder, "robot run"):
        monkeypatch.setattr(sys, "argv", ["robot", "run-once", "--config", str(config_path)])
        started = time.monotonic()
        with pytest.raises(SystemExit) as info:
            robot.cli.main()
    assert info.value.code == ExitCode.LOCKED and time.monotonic() - started < 30
    err = capsys.readouterr().err
    assert err.startswith("error: the output folder") and f"robot process {os.getpid()}" in err
