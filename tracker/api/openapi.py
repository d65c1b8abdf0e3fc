"""The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json."""

CHANNELS = ["portal", "weibo", "wechat", "app", "other"]
STATUSES = ["not_started", "in_progress", "done", "ongoing"]


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema):
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes):
    texts = {
        400: "Bad request: the body is not JSON, or a missing X-CSRFToken with the session cookie",
        401: "Not signed in and no valid bearer token",
        403: "Not allowed for this user",
        404: "No such plan or form (or another department's form)",
        409: "The form moved on (stale version) or is not editable",
        422: "Invalid input; `fields` names what is wrong",
    }
    return {str(code): {"description": texts[code], **_json(_ref("Error"))} for code in codes}


COUNTS = {
    "type": "object",
    "properties": {
        kind: {
            "type": "object",
            "properties": {c: {"type": "integer", "minimum": 0, "maximum": 1_000_000} for c in CHANNELS},
            "additionalProperties": False,
        }
        for kind in ("submitted", "published")
    },
    "additionalProperties": False,
}

LINE = {
    "type": "object",
    "required": ["task_code"],
    "properties": {
        "task_code": {"type": "string", "example": "1.1.4"},
        "status": {"type": "string", "nullable": True, "enum": [*STATUSES, None]},
        "done": {"type": "string", "maxLength": 5000},
        "problems": {"type": "string", "maxLength": 5000},
        "next_steps": {"type": "string", "maxLength": 5000},
    },
}

YEAR = {"name": "year", "in": "query", "schema": {"type": "integer", "minimum": 1900, "maximum": 2999, "example": 2018}}
QUARTER = {"name": "quarter", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 4}}
REPORT_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "maximum": 2**31 - 1},
}

SPEC = {
    "openapi": "3.0.3",
    "info": {
        "title": "政务公开工作任务管理 API",
        "version": "1",
        "description": (
            "Quarterly completion forms (季度完成情况报送表). Authenticate with the session cookie "
            "(unsafe methods then need the X-CSRFToken header) or `Authorization: Bearer TOKEN`, "
            "where `flask --app tracker user token USERNAME` prints a token. A department user sees "
            "only its own department's forms; another department's form answers 404."
        ),
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}, {"cookie": []}],
    "paths": {
        "/tasks": {
            "get": {
                "summary": "A plan's tasks (default: the newest plan)",
                "parameters": [YEAR],
                "responses": {"200": {"description": "The tasks", **_json(_ref("Tasks"))}, **_errors(401, 404, 422)},
            }
        },
        "/returns": {
            "get": {
                "summary": "Quarterly forms the user may see",
                "parameters": [YEAR, QUARTER, {"name": "department", "in": "query", "schema": {"type": "string"}}],
                "responses": {
                    "200": {
                        "description": "The forms",
                        **_json(
                            {"type": "object", "properties": {"returns": {"type": "array", "items": _ref("Return")}}}
                        ),
                    },
                    **_errors(401, 404, 422),
                },
            }
        },
        "/returns/{id}": {
            "get": {
                "summary": "One form",
                "parameters": [REPORT_ID],
                "responses": {"200": {"description": "The form", **_json(_ref("Return"))}, **_errors(401, 404)},
            },
            "put": {
                "summary": "Save a draft or returned form; send the version you read",
                "parameters": [REPORT_ID],
                "requestBody": {"required": True, **_json(_ref("ReturnUpdate"))},
                "responses": {
                    "200": {"description": "Saved", **_json(_ref("Return"))},
                    **_errors(400, 401, 403, 404, 409, 422),
                },
            },
        },
        "/returns/{id}/submit": {
            "post": {
                "summary": "Submit the form for review",
                "parameters": [REPORT_ID],
                "responses": {
                    "200": {"description": "Submitted", **_json(_ref("Return"))},
                    **_errors(400, 401, 403, 404, 409, 422),
                },
            }
        },
        "/returns/{id}/review": {
            "post": {
                "summary": "Accept, or return with a reason and a new due date (the office)",
                "parameters": [REPORT_ID],
                "requestBody": {"required": True, **_json(_ref("Review"))},
                "responses": {
                    "200": {"description": "Reviewed", **_json(_ref("Return"))},
                    **_errors(400, 401, 403, 404, 409, 422),
                },
            }
        },
        "/progress": {
            "get": {
                "summary": "Reporting rates, completion and information counts (office and leaders)",
                "parameters": [YEAR, QUARTER],
                "responses": {
                    "200": {"description": "Progress", **_json({"type": "object"})},
                    **_errors(401, 403, 404, 422),
                },
            }
        },
    },
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "cookie": {"type": "apiKey", "in": "cookie", "name": "session"},
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error", "message"],
                "properties": {
                    "error": {"type": "string"},
                    "message": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
            "Task": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "title": {"type": "string"},
                    "section": {"type": "string"},
                    "group": {"type": "string"},
                    "lead": {"type": "array", "items": {"type": "string"}},
                    "responsible": {"type": "array", "items": {"type": "string"}},
                    "all_departments": {"type": "boolean"},
                    "and_related": {"type": "boolean"},
                },
            },
            "Tasks": {
                "type": "object",
                "properties": {
                    "year": {"type": "integer"},
                    "title": {"type": "string"},
                    "tasks": {"type": "array", "items": _ref("Task")},
                },
            },
            "Return": {
                "type": "object",
                "required": ["id", "department", "year", "quarter", "state", "version", "due_on", "lines", "counts"],
                "properties": {
                    "id": {"type": "integer"},
                    "department": {"type": "string"},
                    "year": {"type": "integer"},
                    "quarter": {"type": "integer"},
                    "state": {"type": "string", "enum": ["draft", "submitted", "returned", "accepted"]},
                    "version": {"type": "integer"},
                    "due_on": {"type": "string", "format": "date"},
                    "submitted_at": {"type": "string", "nullable": True},
                    "first_submitted_at": {"type": "string", "nullable": True},
                    "is_late": {"type": "boolean", "nullable": True},
                    "returned_count": {"type": "integer"},
                    "return_reason": {"type": "string", "nullable": True},
                    "filled_by_name": {"type": "string"},
                    "filled_by_phone": {"type": "string"},
                    "approved_by": {"type": "string"},
                    "lines": {"type": "array", "items": LINE},
                    "counts": COUNTS,
                },
            },
            "ReturnUpdate": {
                "type": "object",
                "required": ["version"],
                "properties": {
                    "version": {"type": "integer"},
                    "filled_by_name": {"type": "string", "maxLength": 50},
                    "filled_by_phone": {"type": "string", "maxLength": 30},
                    "approved_by": {"type": "string", "maxLength": 50},
                    "lines": {"type": "array", "items": LINE},
                    "counts": COUNTS,
                },
            },
            "Review": {
                "type": "object",
                "required": ["decision"],
                "properties": {
                    "decision": {"type": "string", "enum": ["accept", "return"]},
                    "reason": {"type": "string"},
                    "due_on": {"type": "string", "format": "date"},
                    "line_comments": {
                        "type": "object",
                        "description": "With a return: comments on single lines, by task code, shown beside them",
                        "additionalProperties": {"type": "string", "maxLength": 2000},
                    },
                },
            },
        },
    },
}
