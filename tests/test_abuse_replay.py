"""Issue 12's acceptance probe: bench/abuse.py replays the attacks against a served product and finds
no server error, no lock-out of the real user, no hostile file stored (on the run's database)."""

import os
import re
import subprocess
import sys

from conftest import ROOT, _fresh_postgres
from sqlalchemy.engine import make_url


def test_the_abuse_replay_finds_no_server_error_and_no_lock_out(tmp_path):
    env = {**os.environ, "TRACKER_INSTANCE_DIR": str(tmp_path)}
    env.pop("BENCH_DATABASE_URL", None)
    if os.environ.get("TEST_DATABASE_URL"):  # the PostgreSQL run replays against PostgreSQL
        url = make_url(os.environ["TEST_DATABASE_URL"])
        url = url.set(database=f"{url.database}_abuse_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
        _fresh_postgres(url.render_as_string(hide_password=False))
        env["BENCH_DATABASE_URL"] = url.render_as_string(hide_password=False)

    result = subprocess.run(
        [sys.executable, "bench/abuse.py", "--quick"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )

    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-2000:]
    found = re.search(r"(\d+) cases tried, (\d+) server errors, (\d+) lock-outs of the real user", summary)
    assert found, summary
    cases, errors, lockouts = map(int, found.groups())
    assert cases > 200
    assert (errors, lockouts) == (0, 0), result.stdout
    assert "0 hostile uploads stored" in summary
    assert result.returncode == 0, result.stdout
