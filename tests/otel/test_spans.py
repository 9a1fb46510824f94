"""Spans: a lifecycle span per operation, store spans inside it, both inside the request's."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx
import pytest
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from tests.otel.conftest import POLICY, Rig, Telemetry
from tokenlife import ReuseDetectedError, StoreError, TokenError

pytestmark = pytest.mark.anyio

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def by_name(spans: list[ReadableSpan]) -> dict[str, list[ReadableSpan]]:
    found: dict[str, list[ReadableSpan]] = {}
    for span in spans:
        found.setdefault(span.name, []).append(span)
    return found


def parent_of(span: ReadableSpan) -> int | None:
    return None if span.parent is None else span.parent.span_id


def span_id(span: ReadableSpan) -> int:
    context = span.get_span_context()
    assert context is not None
    return context.span_id


async def test_store_spans_nest_in_the_lifecycle_span_inside_the_callers(
    rig: Rig, telemetry: Telemetry
) -> None:
    tracer = telemetry.tracer_provider.get_tracer("the-framework")
    with tracer.start_as_current_span("POST /refresh") as request:
        pair = await rig.auth.issue("alice")
        rig.clock.advance(1)
        await rig.auth.refresh(pair.refresh_token)
    spans = by_name(telemetry.spans())
    request_id = request.get_span_context().span_id
    (issue,), (refresh,) = spans["tokenlife.issue"], spans["tokenlife.refresh"]
    assert parent_of(issue) == parent_of(refresh) == request_id
    (create,) = spans["tokenlife.store.create_session"]
    (rotate,) = spans["tokenlife.store.refresh"]
    assert parent_of(create) == span_id(issue)
    assert parent_of(rotate) == span_id(refresh)
    assert refresh.attributes is not None
    assert refresh.attributes["tokenlife.outcome"] == "rotated"
    assert rotate.attributes is not None
    assert rotate.attributes["tokenlife.store.operation"] == "refresh"
    # Each span lies within its parent's time.
    for child, parent in ((create, issue), (rotate, refresh)):
        assert parent.start_time is not None and child.start_time is not None
        assert parent.end_time is not None and child.end_time is not None
        assert parent.start_time <= child.start_time <= child.end_time <= parent.end_time


async def test_a_refusal_is_an_outcome_a_store_failure_an_error(
    rig: Rig, telemetry: Telemetry
) -> None:
    pair = await rig.auth.issue("alice")
    rig.clock.advance(1)
    await rig.auth.refresh(pair.refresh_token)
    rig.clock.advance(POLICY.grace + 1)
    with pytest.raises(ReuseDetectedError):
        await rig.auth.refresh(pair.refresh_token)
    await rig.auth.store.close()
    with pytest.raises(StoreError):
        await rig.auth.verify(pair.access_token)
    spans = by_name(telemetry.spans())
    reuse = spans["tokenlife.refresh"][-1]
    assert reuse.attributes is not None
    assert reuse.attributes["tokenlife.outcome"] == "reuse_detected"
    assert reuse.status.status_code is StatusCode.UNSET
    (failed,) = spans["tokenlife.verify"]
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes is not None
    assert failed.attributes["error.type"] == "store_unavailable"
    (store_call,) = spans["tokenlife.store.access_status"]
    assert store_call.status.status_code is StatusCode.ERROR
    assert parent_of(store_call) == span_id(failed)


async def test_no_attribute_or_span_field_carries_a_token_or_an_identifier(
    rig: Rig, telemetry: Telemetry
) -> None:
    pair = await rig.auth.issue("alice-the-subject")
    rig.clock.advance(1)
    second = await rig.auth.refresh(pair.refresh_token)
    await rig.auth.verify(second.access_token)
    rig.clock.advance(POLICY.grace + 1)
    with pytest.raises(TokenError):
        await rig.auth.refresh(pair.refresh_token)
    await rig.auth.revoke(second.access_token)
    await rig.auth.revoke_subject("alice-the-subject")
    claims = rig.auth.codec.decode(second.access_token, typ="at+jwt", now=rig.clock())
    secrets = {
        pair.access_token,
        pair.refresh_token,
        second.access_token,
        second.refresh_token,
        pair.session_id,
        "alice-the-subject",
        str(claims.jti),
    }
    # Every piece of every token too: its header, payload and signature.
    secrets |= {part for token in list(secrets) for part in token.split(".") if len(part) > 8}
    spans = telemetry.spans()
    assert spans
    for span in spans:
        values = [span.name, *(str(v) for v in (span.attributes or {}).values())]
        values += [event.name for event in span.events]
        for value in values:
            for secret in secrets:
                assert secret not in value, (span.name, value)
    for _, attrs in telemetry.points():
        for _, value in attrs:
            assert all(secret not in value for secret in secrets)


def refresh_app(rig: Rig) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """A bare ASGI app: POST /refresh with a JSON body, the pair or 401 back."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            pair = await rig.auth.refresh(json.loads(body)["refresh_token"])
            status, reply = 200, {"refresh_token": pair.refresh_token}
        except TokenError as exc:
            status, reply = 401, {"error": exc.code}
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(reply).encode()})

    return app


async def test_spans_nest_under_the_asgi_instrumentations_request_span(
    rig: Rig, telemetry: Telemetry
) -> None:
    """OpenTelemetry's ASGI middleware (what Litestar's and FastAPI's instrumentation use)."""
    app = OpenTelemetryMiddleware(
        refresh_app(rig),
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
    )
    pair = await rig.auth.issue("alice")
    telemetry.exporter.clear()
    rig.clock.advance(1)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        reply = await client.post("/refresh", json={"refresh_token": pair.refresh_token})
    assert reply.status_code == 200
    spans = by_name(telemetry.spans())
    (request,) = [s for s in telemetry.spans() if s.parent is None]
    (refresh,) = spans["tokenlife.refresh"]
    (store_call,) = spans["tokenlife.store.refresh"]
    assert parent_of(refresh) == span_id(request)
    assert parent_of(store_call) == span_id(refresh)
    assert request.context is not None and refresh.context is not None
    assert refresh.context.trace_id == request.context.trace_id
