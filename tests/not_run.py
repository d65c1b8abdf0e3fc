"""Say, after all of ``make test``'s runs, which tests did not run for want of PostgreSQL or Chromium.

Reads the outcome log the runs appended to (``TEST_OUTCOME_LOG``, see ``conftest.py``). A test marked
``postgres`` that was skipped on SQLite but ran on PostgreSQL did run. Under ``CI=true`` anything
that did not run fails the build: CI has both, so a skip there means a broken set-up.

Usage: ``python tests/not_run.py LOG``
"""

import json
import os
import sys

HOW = {
    "postgres": "start PostgreSQL on 127.0.0.1:5432 (pg_ctlcluster --skip-systemctl-redirect VERSION main start) "
    "or set TEST_DATABASE_URL",
    "browser": "apt-get install chromium",
}


def not_run(lines):
    """Return ({test: kind} of tests that never ran, [(run that did not happen, why)])."""
    ran, kinds, absent = set(), {}, []
    for line in lines:
        entry = json.loads(line)
        if "absent" in entry:
            absent.append((entry["run"], entry["absent"]))
            continue
        kinds[entry["test"]] = entry["kind"]
        if entry["result"] == "ran":
            ran.add(entry["test"])
    return {test: kind for test, kind in sorted(kinds.items()) if test not in ran}, absent


def main(path):
    """Print the summary; return the exit status (1 under CI=true when anything did not run)."""
    try:
        with open(path, encoding="utf-8") as log:
            missing, absent = not_run(log.read().splitlines())
    except FileNotFoundError:
        missing, absent = {}, [f"no outcome log at {path}: no test run recorded anything"]
    if not missing and not absent:
        print("Every PostgreSQL and browser test ran.")
        return 0
    print("=" * 30 + " NOT RUN " + "=" * 30)
    for run, why in absent:
        print(f"The {run} run did not happen: {why}.")
    for kind in sorted(set(missing.values())):
        tests = [test for test, k in missing.items() if k == kind]
        print(f"{len(tests)} {kind} test(s) did not run; to run them: {HOW[kind]}")
        for test in tests:
            print(f"  {test}")
    if os.environ.get("CI", "").lower() == "true":
        print("CI=true: every PostgreSQL and browser test must run here; failing.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
