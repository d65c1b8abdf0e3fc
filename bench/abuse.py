"""Abuse replay: the probes of the security review, against a running server.

Serves the product on a loopback port (behind one trusted proxy, so that each probe can come from
an address of its own through X-Forwarded-For), loads the 2018 plan, and replays: sign-in floods
per account and per address (in parallel), parallel saves of one form with the same version,
malformed bodies and query arguments, forged and control-character forms, hostile uploads and
framing. Then prints one line: cases tried, server errors (must be 0), lock-outs of the real user
(must be 0); exits 1 if either is not 0.

    .venv/bin/python bench/abuse.py [--quick]

Uses a throw-away SQLite file unless BENCH_DATABASE_URL names another (empty) database.
"""

import argparse
import http.cookiejar
import io
import json
import logging
import os
import re
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "real-user-pass-7"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PE = b"MZ\x90\x00" + b"\x00" * 60 + b"This program cannot be run in DOS mode.\r\n"


class Tally:
    """What the replay saw: cases, server errors (with what caused them), lock-outs of the real user."""

    def __init__(self):
        self.cases = 0
        self.errors = []
        self.lockouts = []
        self.slowed = 0  #: sign-in attempts answered "wait": the floods did reach the throttle
        self.lock = threading.Lock()

    def saw(self, name, status, text=""):
        with self.lock:
            self.cases += 1
            self.slowed += "登录失败次数过多" in text
            if status >= 500 or status == 0:
                self.errors.append(f"{name}: {status}")


class Client:
    """A browser (cookies, CSRF token) at one address, as the trusted proxy reports it."""

    def __init__(self, base, tally, address):
        self.base, self.tally, self.address = base, tally, address
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def request(self, name, method, path, body=None, headers=None):
        """Send one request; count it; return (status, text)."""
        headers = {"X-Forwarded-For": self.address, **(headers or {})}
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=60) as response:
                status, text = response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode(errors="replace")
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            status, text = 0, str(error)
        self.tally.saw(name, status, text)
        return status, text

    def token(self, path="/login"):
        _, page = self.request("page for a token", "GET", path)
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page
        )
        return found.group(1) if found else ""

    def form(self, name, path, fields, token=True, files=None):
        """Post a form (multipart when ``files`` are given) with this browser's CSRF token."""
        fields = dict(fields)
        name = f"{name} {path} {sorted(fields)}"
        if token:
            fields["csrf_token"] = self.token(path if path != "/login" else "/login")
        if files:
            boundary = uuid.uuid4().hex
            body = io.BytesIO()
            for key, value in fields.items():
                body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
            for key, (filename, data) in files.items():
                body.write(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{filename}"\r\n'
                    "Content-Type: application/octet-stream\r\n\r\n".encode()
                )
                body.write(data + b"\r\n")
            body.write(f"--{boundary}--\r\n".encode())
            headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
            return self.request(name, "POST", path, body.getvalue(), headers)
        encoded = urllib.parse.urlencode(fields).encode()
        return self.request(name, "POST", path, encoded, {"Content-Type": "application/x-www-form-urlencoded"})

    def sign_in(self, username, password):
        status, page = self.form(f"sign in {username}", "/login", {"username": username, "password": password})
        return status == 200 and "退出" in page and "用户名或密码错误" not in page


def package(extra=(), drop=()):
    """Return a small real .docx with parts added or dropped."""
    import docx

    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("佐证材料")
    document.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename not in drop:
                target.writestr(info.filename, source.read(info))
        for name, data in extra:
            target.writestr(name, data)
    return out.getvalue()


def floods(base, tally, attempts):
    """Sign-in floods per account and per address, in parallel; then the real user signs in."""
    # The owner's own browser, at the address the floods come from (an office behind one NAT).
    desk = Client(base, tally, "10.66.0.2")
    if not desk.sign_in("office", PASSWORD):
        raise SystemExit("the office could not sign in before the floods")
    desk.request("sign out", "POST", "/logout", urllib.parse.urlencode({"csrf_token": desk.token("/")}).encode())
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda i: Client(base, tally, "10.66.0.1").sign_in("office", f"guess-{i}"), range(attempts)))
        list(pool.map(lambda i: Client(base, tally, "10.66.0.2").sign_in(f"name{i}", "guess"), range(attempts * 2)))
        # Spoofed chains: only the address the trusted proxy appended counts.
        list(
            pool.map(
                lambda i: Client(base, tally, f"10.0.0.9, 10.66.1.{i % 200}").sign_in("office", "guess"),
                range(attempts),
            )
        )
    for address in ("10.0.0.9", "10.0.0.10"):
        if not Client(base, tally, address).sign_in("office", PASSWORD):
            tally.lockouts.append(f"office could not sign in from {address} after the floods")
    for address in ("10.66.0.1", "10.66.0.2"):  # the flooded addresses themselves, on the owner's browser
        desk.address = address
        if not desk.sign_in("office", PASSWORD):
            tally.lockouts.append(f"office's own browser could not sign in from {address} after the floods")
        desk.request("sign out", "POST", "/logout", urllib.parse.urlencode({"csrf_token": desk.token("/")}).encode())


def parallel_saves(base, tally, token, form_id, trials):
    """Two PUTs of one form with the same version at once: each trial must be one 200 and one 409."""
    api = Client(base, tally, "10.0.1.1")
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    odd = []
    for trial in range(trials):
        _, text = api.request("read form", "GET", f"/api/v1/returns/{form_id}", headers=auth)
        form = json.loads(text)
        lines = [{"task_code": line["task_code"], "status": "in_progress"} for line in form["lines"]]
        bodies = [
            {"version": form["version"], "filled_by_name": f"甲{trial}", "lines": lines, "counts": {}},
            {"version": form["version"], "lines": [{**line, "done": f"乙{trial}"} for line in reversed(lines)]},
        ]
        barrier = threading.Barrier(2)

        def put(body, barrier=barrier):
            barrier.wait()
            return api.request("parallel save", "PUT", f"/api/v1/returns/{form_id}", json.dumps(body).encode(), auth)

        with ThreadPoolExecutor(max_workers=2) as pool:
            statuses = sorted(status for status, _ in pool.map(put, bodies))
        if statuses != [200, 409]:
            odd.append(statuses)
    return odd


def malformed(base, tally, token, form_id):
    """Bodies, arguments and forms no one should send."""
    api = Client(base, tally, "10.0.2.1")
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    url = f"/api/v1/returns/{form_id}"
    bodies = [
        b"[" * 50000 + b"]" * 50000,
        b'{"version": 1,',
        b"\xff\xfe\x00",
        b"null",
        b'"text"',
        json.dumps({"version": 2**80}).encode(),
        json.dumps({"version": True}).encode(),
        json.dumps({"version": 1, "lines": "x"}).encode(),
        json.dumps({"version": 1, "lines": [{"task_code": "1.1.1", "done": "a\x00b"}]}).encode(),
        json.dumps({"version": 1, "lines": [{"task_code": "1.1.1", "done": "x" * 1_000_000}]}).encode(),
        json.dumps({"version": 1, "counts": {"submitted": {"portal": -1}}}).encode(),
        json.dumps({"version": 1, "counts": {"submitted": {"portal": 10**30}}}).encode(),
        json.dumps({"version": 1, "filled_by_name": {"nested": [1, 2]}}).encode(),
        b"{" + b'"a":1,' * 200000 + b'"b":2}',
    ]
    for body in bodies:
        api.request("malformed body", "PUT", url, body, auth)
    api.request("not json", "PUT", url, b"version=1", {**auth, "Content-Type": "text/plain"})
    api.request("review without rights", "POST", f"{url}/review", b'{"decision": "accept"}', auth)
    office = Client(base, tally, "10.0.2.2")
    if not office.sign_in("office", PASSWORD):
        raise SystemExit("the office could not sign in: the form probes would test nothing")
    for path in (
        "/dashboard?year=2018&department=99999999999999999999",
        "/dashboard?year=3000000000",
        "/plans/2018?department=-99999999999",
        "/applications?page=99999999999999999999",
        "/exports/summary.xlsx?year=2018&scope=q:9",
        "/exports/quarter.xlsx?year=2018&quarter=7",
        "/exports/department.xlsx?year=2018&department=%00",
        "/returns/99999999999999999999",
        "/plans/2018?department=%00",
        "/notifications/99999999999",
        "/api/v1/returns?year=99999999999999999999",
        "/api/v1/returns?department=%00",
    ):
        office.request("query argument", "GET", path)
    for path, fields in (
        ("/applications/new", {"number": "A\x00", "received_on": "0001-01-01", "request": "x" * 6000}),
        ("/applications/new", {"number": "A1", "received_on": "2026-13-45", "channel": "当面"}),
        ("/cases", {"number": "\x1b[31m", "kind": "review"}),
        ("/calendar", {"day": "2026-10-08", "is_workday": "0", "note": "假" * 500}),
        ("/calendar", {"day": "0001-01-01", "is_workday": "1"}),
        ("/departments", {"name": "部门\x00", "aliases": "a\x0bb"}),
        ("/departments/1/edit", {"name": "工委(管委会)办公室"}),
        ("/departments/99999999999/edit", {"name": "x"}),
        ("/plans/2018/periods", {"period_id": "1", "due_on": "2118-01-01"}),
        ("/plans/2018/periods", {"period_id": "99999999999", "due_on": "2018-10-10"}),
        ("/account", {"current": "x\x00", "new": "short", "confirm": "other"}),
    ):
        office.form("form", path, fields)
        office.form("form without csrf", path, fields, token=False)
    return office


def uploads(base, tally, form_id):
    """Hostile files, each refused with a message, none a server error."""
    fgj = Client(base, tally, "10.0.3.1")
    if not fgj.sign_in("fgj", PASSWORD):
        raise SystemExit("the department user could not sign in: the upload probes would test nothing")
    _, page = fgj.request("form page", "GET", f"/returns/{form_id}")
    line = re.search(r'<option value="(\d+)"', page.split('id="line_id"', 1)[-1])
    line_id = line.group(1) if line else "1"
    hostile = {
        "evil.docx": package([("word/evil.exe", PE)]),
        "page.docx": package([("word/page.html", b"<html><script>alert(1)</script></html>")]),
        "image.docx": package([("word/media/image1.png", PE)]),
        "bomb.docx": package([("word/media/big.bmp", b"\x00" * (40 * 1024 * 1024))]),
        "broken.docx": package(drop={"word/document.xml"}),
        "polyglot.pdf": PDF.replace(b"%%EOF", b"<html><script>alert(document.cookie)</script></html>\n%%EOF"),
        "js.pdf": PDF.replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript /JS (x) >>"),
        "program.pdf": PE + b"\x00" * 100,
        "empty.pdf": b"",
        "name\x00.pdf": PDF,
        ("长" * 300) + ".pdf": PDF,
        "big.pdf": PDF + b"\x00" * (21 * 1024 * 1024),
    }
    stored, unexplained = [], []
    for name, data in hostile.items():
        status, text = fgj.form(
            "hostile upload", f"/returns/{form_id}/evidence", {"line_id": line_id}, files={"file": (name, data)}
        )
        if status == 200 and "已上传" in text:
            stored.append(name)
        elif not re.search("不能上传|不是允许的文件类型|文件名过长|是空的|超过|控制字符|文件过大", text):
            unexplained.append(f"{name[:20]}: {status}")
    if unexplained:
        print("  refused without a reason the user can read:", ", ".join(unexplained))
    return stored


def main():
    """Serve the product, replay the probes, print the one-line summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Fewer attempts and trials (a smoke run).")
    args = parser.parse_args()
    attempts, trials = (20, 10) if args.quick else (60, 50)

    workdir = Path(tempfile.mkdtemp(prefix="tracker-abuse-"))
    os.environ["TRACKER_INSTANCE_DIR"] = str(workdir)
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'abuse.sqlite3'}"
    os.environ["TRUSTED_PROXY_COUNT"] = "1"
    os.environ.pop("TRACKER_SCHEDULER", None)

    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from config import Config
    from tracker import create_app
    from tracker.auth.operations import create_token, create_user
    from tracker.extensions import db
    from tracker.models import Department, QuarterlyReturn
    from tracker.plans.operations import load_plan
    from tracker.plans.parser import parse_plan_file

    config = Config()
    config.TRUSTED_PROXY_COUNT = 1
    app = create_app(config)
    with app.app_context():
        upgrade()
        load_plan(parse_plan_file(ROOT / "tracker" / "data" / "2018_teda_arrangement.txt"))
        create_user("office", "office", PASSWORD)
        fgj = create_user("fgj", "department", PASSWORD, Department.lookup("发改局"))
        token = create_token(fgj)
        form_id = (
            QuarterlyReturn.query.filter_by(department_id=fgj.department_id).order_by(QuarterlyReturn.id).first().id
        )
        dialect = db.engine.dialect.name

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("tracker").setLevel(logging.CRITICAL)
    app.logger.setLevel(logging.CRITICAL)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    tally = Tally()

    floods(base, tally, attempts)
    odd_saves = parallel_saves(base, tally, token, form_id, trials)
    malformed(base, tally, token, form_id)
    stored = uploads(base, tally, form_id)
    server.shutdown()

    for error in tally.errors[:20]:
        print("  server error:", error)
    for name in stored:
        print("  hostile upload stored:", name)
    for statuses in odd_saves[:10]:
        print("  parallel save trial answered", statuses)
    for lockout in tally.lockouts:
        print("  lock-out:", lockout)
    print(
        f"abuse ({dialect}): {tally.cases} cases tried, {len(tally.errors)} server errors, "
        f"{len(tally.lockouts)} lock-outs of the real user, {len(stored)} hostile uploads stored, "
        f"{len(odd_saves)} of {trials} parallel-save trials not 200+409 "
        f"({tally.slowed} flood attempts were told to wait)"
    )
    return 1 if tally.errors or tally.lockouts or stored or odd_saves else 0


if __name__ == "__main__":
    sys.exit(main())
