"""The soak's short form: bench/soak.py with 120 asks from 4 threads over one provider, against the real emulator."""

from __future__ import annotations

import subprocess
import sys

from conftest import EMULATOR, SOURCE_DIR


def test_short_soak_every_call_ends_right_and_nothing_is_left_behind() -> None:
    # RSS is judged by the full soak (1000 asks); 120 asks after a short warm-up say little about it.
    run = subprocess.run([sys.executable, str(SOURCE_DIR / "bench" / "soak.py"), "--emulator", EMULATOR, "--asks", "120",
                          "--threads", "4", "--rss-limit", "-1"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "120 passed, 0 failed" in run.stdout
