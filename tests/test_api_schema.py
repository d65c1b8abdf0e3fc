"""Property-based tests of /api/v1 with Schemathesis, in process, against its own OpenAPI description.

Every operation of the served description is called with generated valid and invalid input, as an
office user and as a department user (bearer tokens), on the loaded 2018 plan. Schemathesis's
default checks apply: no server error, status codes, content types and bodies as described,
invalid input refused, valid input accepted, no access without credentials, and so on.

A server error fails the test: the app runs with TESTING, so the exception itself reaches the
test (Schemathesis also captures it from Flask's got_request_exception signal).
"""

from types import SimpleNamespace

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from config import TestingConfig
from tracker import create_app
from tracker.auth.operations import create_token
from tracker.extensions import db
from tracker.models import QuarterlyReturn

#: Saving, submitting and reviewing apply rules a JSON schema cannot state (the form is complete,
#: a return has a reason and a due date not in the past, the task codes are the form's own), so a
#: schema-valid request to them may rightly be refused with 422; everywhere else it may not.
WRITES_MAY_REFUSE_VALID_DATA = {
    "include-method": ["PUT", "POST"],
    "checks": {
        "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422"]},
    },
}

CONFIG = {
    "seed": 20181010,  # the same cases on every run, so a failure is reproducible and no run is flaky
    "generation": {"max-examples": 15, "database": "none"},
    "operations": [WRITES_MAY_REFUSE_VALID_DATA],
}


def _served_description():
    """Return the description as /api/v1/openapi.json serves it (it needs no database)."""
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = "sqlite://"
    app = create_app(config)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=schemathesis.Config.from_dict(CONFIG))


schema = _served_description()


@pytest.fixture
def api_app(app):
    """The test app, with every request in an app context of its own, as in production.

    Schemathesis calls the WSGI app directly (not through the suite's test client), and some of its
    checks repeat a request without credentials: without a fresh context, Flask-Login's user cached
    in ``g`` would answer for it.
    """
    inner = app.wsgi_app

    def wsgi_app(environ, start_response):
        with app.app_context():
            return inner(environ, start_response)

    app.wsgi_app = wsgi_app
    return app


ROLES = {"office": ("office1",), "department": ("fgj1", "department", "发改局")}


@pytest.fixture(params=list(ROLES))
def user(request, load_seed, create_user):
    """Load the 2018 plan; return an office user or 发改局's user, with a bearer token and the form ids."""
    load_seed()
    user = create_user(*ROLES[request.param])
    forms = QuarterlyReturn.query.order_by(QuarterlyReturn.id).all()
    # The user's own forms first, so that small generated ids reach them (see steer).
    form_ids = [f.id for f in forms if f.department_id == user.department_id] + [
        f.id for f in forms if f.department_id != user.department_id
    ]
    return SimpleNamespace(token=create_token(user), form_ids=form_ids)


def steer(case, app, form_ids):
    """Point small generated form ids at real forms, and small versions at the form's current one.

    Left alone, generated ids and versions almost never name a form and its version, and every
    request would end in 404 or 409 before the code that reads the form or validates a save.
    Large ids (and anything that is not an integer) are sent as generated.
    """
    generated = str((case.path_parameters or {}).get("id"))  # path parameters arrive as text
    if not (generated.isascii() and generated.isdigit() and int(generated) < 1000):
        return
    form_id = form_ids[int(generated) % len(form_ids)]
    case.path_parameters["id"] = str(form_id)
    version = case.body.get("version") if isinstance(case.body, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and 0 <= version < 10:
        with app.app_context():
            case.body["version"] = db.session.get(QuarterlyReturn, form_id).version


@schema.parametrize()
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_the_api_keeps_to_its_description(case, api_app, user):
    # The fixtures are function-scoped on purpose: one seeded database per operation and role,
    # which the generated requests then change (saves, submissions, reviews) as a client would.
    steer(case, api_app, user.form_ids)
    case.call_and_validate(app=api_app, headers={"Authorization": f"Bearer {user.token}"})
