"""The inbound API for form tools: ``POST /api/v1/entries``, signed per integration.

A call is JSON ``{"assignment", "person", "fields", "idempotency_key"}`` with the headers
``X-Between-Integration``, ``X-Between-Timestamp`` and ``X-Between-Signature`` (see
``security.verify``). It records the entry exactly as ``between submit`` does — the same
validation, the operators list (the actor is ``integration:NAME``), the same events, with
``via`` "api" — and, like a personal link, takes a collaborator's entries only on homework they
observe. It answers with the stored entry, or a JSON error naming the field.
No cookies, no CSRF token: the signature is the proof.
"""

from __future__ import annotations

import json
import re
from typing import Any
from uuid import UUID

from flask import Blueprint, jsonify, request

from between import Conflict, InvalidInput, NotFound, RuleViolation
from between.engine.work.links import NotObserved
from between.portal.context import portal
from between.portal.security import SignatureError, verify

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

KEY = re.compile(r"[\x21-\x7e]{1,100}")  # printable ASCII, no spaces


def error(status: int, message: str, fields: dict[str, str] | None = None) -> Any:
    body: dict[str, Any] = {"error": message}
    if fields:
        body["fields"] = fields
    return jsonify(body), status


@blueprint.post("/entries")
def record_entry() -> Any:
    body = request.get_data(cache=False)
    actor, refused = _caller(body)
    if refused:
        return refused
    call, problem = _read(body)
    if problem:
        return error(400, problem)
    key, aid = f"{actor}:{call['idempotency_key']}", call["assignment"]
    try:
        with portal().writing(aid):
            homework = portal().homework()
            outcome = homework.submit_observed(
                aid, call["fields"], by=call["person"], actor=actor, request_key=key, via="api"
            )
    except InvalidInput as e:
        return error(422, str(e), getattr(e, "fields", None))
    except NotFound as e:
        return error(404, str(e))
    except NotObserved as e:  # the portal's rule: a collaborator's homework is what they observe
        return error(403, str(e))
    except RuleViolation as e:
        said = str(e)
        refused = said.startswith((f"{actor!r} is not an operator", f"{actor} ("))
        return error(403 if refused else 409, said)
    except Conflict as e:
        return error(409, str(e))
    entry = _entry(outcome.record, outcome.result)
    answer = {"assignment": aid, "entry": entry, "repeated": outcome.repeated}
    return jsonify(answer), 200 if outcome.repeated else 201


@blueprint.post("/homework/<uuid:assignment>/notes")
def send_note(assignment: UUID) -> Any:
    """A note to the therapist from a form tool: ``{"person", "kind", "text",
    "idempotency_key"}``, signed like an entry; recorded as ``send_note_observed``."""
    body = request.get_data(cache=False)
    actor, refused = _caller(body)
    if refused:
        return refused
    call, problem = _read_note(body)
    if problem:
        return error(400, problem)
    aid = str(assignment)
    key = f"{actor}:{call['idempotency_key']}"
    try:
        with portal().writing(aid):
            outcome = portal().homework().send_note_observed(  # type: ignore[attr-defined]
                aid, call["kind"], call.get("text"), by=call["person"], actor=actor,
                request_key=key, via="api",
            )  # fmt: skip
    except InvalidInput as e:
        return error(422, str(e), getattr(e, "fields", None))
    except NotFound as e:
        return error(404, str(e))
    except NotObserved as e:
        return error(403, str(e))
    except RuleViolation as e:
        said = str(e)
        refused = said.startswith((f"{actor!r} is not an operator", f"{actor} ("))
        return error(403 if refused else 409, said)
    except Conflict as e:
        return error(409, str(e))
    notes = outcome.record.get("client_notes_list") or [{}]
    answer = {"assignment": aid, "note": notes[-1], "repeated": outcome.repeated}
    return jsonify(answer), 200 if outcome.repeated else 201


def _caller(body: bytes) -> tuple[str, Any]:
    """The signed integration's actor name, or the answer refusing the request (401 for a
    bad signature, 429 when it sends too many)."""
    try:
        signed = verify(request.headers, body, portal().config.integrations)
    except SignatureError as e:
        return "", error(401, str(e))
    actor = f"integration:{signed.integration}"
    if not portal().limiter.allow(actor):
        return actor, error(429, "too many requests from this integration; wait a minute")
    return actor, None


def _read_note(body: bytes) -> tuple[dict[str, Any], str | None]:
    """A note call's parts, or what is wrong with it."""
    call, problem = _signed_object(body, {"kind", "text"})
    if problem:
        return {}, problem
    if not isinstance(call.get("kind"), str):
        return {}, 'kind must be "too-hard", "question", "got-in-the-way" or "change"'
    if not isinstance(call.get("text", ""), str | None):
        return {}, "text must be text"
    return call, None


def _read(body: bytes) -> tuple[dict[str, Any], str | None]:
    """An entry call's parts, or what is wrong with it."""
    call, problem = _signed_object(body, {"assignment", "fields"})
    if problem:
        return {}, problem
    try:
        call["assignment"] = str(UUID(call.get("assignment")))
    except (TypeError, ValueError, AttributeError):
        return {}, "assignment must be the homework's id (a UUID)"
    if not isinstance(call.get("fields"), dict):
        return {}, "fields must be a JSON object of the entry's fields"
    return call, None


def _signed_object(body: bytes, keys: set[str]) -> tuple[dict[str, Any], str | None]:
    """The call's JSON object with ``keys`` besides ``person`` (the client when left out) and
    ``idempotency_key``, or what is wrong with it."""
    try:
        call = json.loads(body)
    except ValueError:
        return {}, "the body must be a JSON object"
    if not isinstance(call, dict):
        return {}, "the body must be a JSON object"
    unknown = set(call) - keys - {"person", "idempotency_key"}
    if unknown:
        return {}, f"unknown key(s) {', '.join(sorted(unknown))}"
    call.setdefault("person", "client")
    if not isinstance(call["person"], str) or not call["person"].strip():
        return {}, 'person must be "client" or a collaborator\'s name'
    if not isinstance(call.get("idempotency_key"), str) or not KEY.fullmatch(
        call["idempotency_key"]
    ):
        return {}, "idempotency_key must be 1–100 printable characters without spaces"
    return call, None


def _entry(record: dict[str, Any], entry_id: str | None) -> dict[str, Any]:
    """The stored entry from the assignment's record."""
    for entry in record.get("entry_list", []):
        if str(entry.get("id")) == entry_id:
            return entry
    return {"id": entry_id}
