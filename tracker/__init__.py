"""Work-plan task tracker for a government office's openness programme (政务公开)."""

from pathlib import Path

from flask import Flask, abort

ROOT = Path(__file__).resolve().parent.parent


def _ids_in_range(endpoint, values):
    """Answer 404 for a row id in a URL past any database integer, instead of overflowing the query."""
    for name, value in (values or {}).items():
        if name.endswith("_id") and isinstance(value, int) and value > 2**31 - 1:
            abort(404)


def create_app(config=None):
    """Create the application; ``config`` is a config class or object (default: ``config.Config``)."""
    from config import Config

    config = config or Config
    config = config() if isinstance(config, type) else config
    app = Flask(__name__, template_folder=str(ROOT / "templates"), instance_path=str(config.INSTANCE_DIR))
    app.config.from_object(config)
    if app.config.get("TRUSTED_PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXY_COUNT"]
        # The proxy's Host header is passed on as it is; X-Forwarded-Host is not believed.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.url_value_preprocessor(_ids_in_range)
    from . import requestlog
    from .guards import add_security_headers, check_request

    requestlog.init_app(app)
    app.before_request(check_request)
    app.after_request(add_security_headers)

    from . import audit  # noqa: F401 - registers the audit listener
    from .extensions import bootstrap, csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    bootstrap.init_app(app)

    _register_blueprints(app)

    from .cli import register_cli
    from .errors import register_error_handlers
    from .views import register_template_helpers

    register_cli(app)
    register_error_handlers(app)
    register_template_helpers(app)
    _commit_each_request(app)  # last: its commit runs before the other after-request hooks

    if app.config.get("TRACKER_SCHEDULER") == "inline":
        from .scheduler import serves_requests, start_inline

        if serves_requests():  # never inside `flask db upgrade`, `flask plan load` …
            start_inline(app)
    return app


def _register_blueprints(app):
    """Register every area's pages (and the API), the landing page's first."""
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .briefs import bp as briefs_bp
    from .chase import bp as chase_bp
    from .departments import bp as departments_bp
    from .downloads import bp as downloads_bp
    from .main import bp as main_bp
    from .monitor import bp as monitor_bp
    from .plans import bp as plans_bp
    from .register import bp as register_bp
    from .returns import bp as returns_bp
    from .summaries import bp as summaries_bp
    from .users import bp as users_bp

    for blueprint in (
        main_bp,
        auth_bp,
        briefs_bp,
        chase_bp,
        monitor_bp,
        plans_bp,
        register_bp,
        departments_bp,
        downloads_bp,
        returns_bp,
        summaries_bp,
        users_bp,
        api_bp,
    ):
        app.register_blueprint(blueprint)


def _commit_each_request(app):
    """Make every request an edge (see :mod:`tracker.transaction`): opened before anything else runs,
    committed once before the answer is sent when it is a success, rolled back otherwise."""
    from sqlalchemy.exc import SQLAlchemyError

    from .errors import commit_failure_response
    from .transaction import close_edge, open_edge

    app.before_request_funcs.setdefault(None, []).insert(0, open_edge)

    @app.after_request
    def _commit_request(response):
        try:
            close_edge(keep=response.status_code < 400)
        except SQLAlchemyError as exc:  # rolled back already
            return commit_failure_response(exc)
        return response

    @app.teardown_request
    def _close_request(exc):
        close_edge(keep=False)  # after an unhandled error; nothing to do when the request committed
