"""Security regression suite for the API: every operation of the OpenAPI schema is protected (anonymous,
staff without a verified OTP device, wrong machine scope, staff on machine endpoints, missing CSRF token);
the public endpoints show no personal data; audit entries carry none.

The operations are read from the schema (GET /api/openapi.json), never listed by hand: a new endpoint
without protection fails these tests unless it is added, with its reason, to ``PUBLIC``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Role
from neweid.server.applications.models import Status
from neweid.server.audit.models import AuditEntry
from neweid.server.cards.ca import SimulatedCitizenCa
from neweid.server.cards.states import CardState
from neweid.server.exchange.models import SystemScope
from neweid.server.operations.chipdata import do_issue_chip_data_list
from neweid.server.operations.serials import display
from neweid.server.operations.temporary import do_issue_temporary_certificate
from neweid.server.registry.models import Person
from tests.server.conftest import StaffAccount, sign_in
from tests.server.test_applications_support import jpeg
from tests.server.test_applications_support import make_person as make_registered_person
from tests.server.test_exchange_support import Systems, systems
from tests.server.test_operations_support import make_application, make_card, make_person

pytestmark = pytest.mark.django_db
__all__ = ["systems"]

UNSAFE = ("post", "put", "patch", "delete")
METHODS = ("get", *UNSAFE)
REFUSED = {401, 403}

# The operations anyone may call, each with its reason. Everything else needs credentials.
PUBLIC: dict[tuple[str, str], str] = {
    ("get", "/api/health"): "liveness probe for load balancers; answers status, version and DB vendor only",
    ("get", "/api/temporary-certificates/verification/{serial}"):
        "agencies check a temporary certificate by its printed serial; states and dates only",
    ("get", "/api/temporary-certificates/status/{serial}"):
        "the citizen's QR code on the certificate shows how far the card has come; a progress word only",
    ("get", "/api/loss/chip-data-lists/{serial}"):
        "agencies check a chip data list (DOC-2) by its serial; a state only",
}
# Machine endpoints: the scope of the token each path prefix needs.
MACHINE_SCOPES: dict[str, SystemScope] = {
    "/api/exchange/registry/": SystemScope.REGISTRY,
    "/api/exchange/production/": SystemScope.PRODUCTION,
}
# API URLs that are not operations of the schema: the schema itself, its viewer, the root (to the viewer).
NOT_OPERATIONS = {"/api/openapi.json", "/api/docs", "/api/"}

LEAK = re.compile(r"Traceback|File \"|site-packages|\.py\b|/work/|/home/|/usr/")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # as in the schema, with {placeholders}
    url: str  # placeholders filled in
    security: tuple[str, ...]  # names of the security schemes; () for none

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    @property
    def machine_scope(self) -> SystemScope | None:
        return next((scope for prefix, scope in MACHINE_SCOPES.items() if self.path.startswith(prefix)),
                    None)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def _sample(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return str(schema["enum"][0])
    if schema.get("type") == "integer":
        return "1"
    return "AB0000001"


def _operations(client: Client) -> list[Operation]:
    schema = client.get("/api/openapi.json").json()
    found = []
    for path, item in schema["paths"].items():
        for method, spec in item.items():
            if method not in METHODS:
                continue
            url = path
            for param in spec.get("parameters", []):
                if param["in"] == "path":
                    url = url.replace("{" + param["name"] + "}", _sample(param.get("schema", {})))
            assert "{" not in url, f"unfilled path parameter in {path}"
            names = tuple(sorted(name for requirement in spec.get("security", []) for name in requirement))
            found.append(Operation(method, path, url, names))
    assert len(found) > 40, "the schema lost its operations"
    return found


def call(client: Client, operation: Operation, **headers: Any) -> Any:
    return client.generic(operation.method.upper(), operation.url, b"{}", content_type="application/json",
                          **headers)


@pytest.fixture
def operations(client: Client) -> list[Operation]:
    return _operations(client)


def _staff_operations(operations: list[Operation]) -> list[Operation]:
    return [op for op in operations if op.key not in PUBLIC and op.machine_scope is None]


def _machine_operations(operations: list[Operation]) -> list[Operation]:
    return [op for op in operations if op.machine_scope is not None]


def _assert_clean(response: Any, what: str) -> None:
    text = response.content.decode("utf-8", "replace")
    assert not LEAK.search(text), f"{what}: the answer shows the server's insides: {text[:200]}"


# -- the schema and the URL configuration -------------------------------------------------------------


def test_every_api_url_is_an_operation_of_the_schema(operations: list[Operation]) -> None:
    """An endpoint hidden from the schema (include_in_schema=False) would escape the tests below."""
    api_resolver = next(p for p in get_resolver().url_patterns
                        if isinstance(p, URLResolver) and str(p.pattern) == "api/")

    def routes(patterns: list[Any], prefix: str) -> Iterator[str]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from routes(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                yield "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)

    declared = {op.path for op in operations}
    hidden = set(routes(api_resolver.url_patterns, "api/")) - declared - NOT_OPERATIONS
    assert not hidden, f"API URLs missing from the schema: {sorted(hidden)}"


def test_public_operations_are_exactly_the_allowlist(operations: list[Operation]) -> None:
    unsecured = {op.key for op in operations if not op.security}
    assert unsecured == set(PUBLIC), ("operations without security in the schema differ from the allowlist: "
                                      f"{sorted(unsecured ^ set(PUBLIC))}")
    assert all(method == "get" for method, _path in PUBLIC), "a public operation must not change anything"
    for op in operations:
        if op.machine_scope is not None:
            assert op.security == ("SystemTokenAuth",), f"{op}: machine endpoint without a bearer token"
        elif op.key not in PUBLIC:
            assert op.security == ("StaffSessionAuth",), f"{op}: unexpected security {op.security}"


# -- anonymous ------------------------------------------------------------------------------------------


def test_anonymous_callers_are_refused_everywhere_but_the_public_operations(
        client: Client, operations: list[Operation]) -> None:
    for op in operations:
        response = call(client, op)
        if op.key in PUBLIC:
            assert response.status_code == 200, f"{op}: public operation answers {response.status_code}"
        else:
            assert response.status_code in REFUSED, f"{op}: anonymous call answered {response.status_code}"
            assert set(response.json()) == {"code", "message"}, op
        _assert_clean(response, str(op))


def test_undeclared_methods_are_not_served(client: Client, operations: list[Operation]) -> None:
    """A method the schema does not list for a path answers 405 (or a refusal), never runs a view."""
    declared: dict[str, set[str]] = {}
    urls: dict[str, str] = {}
    for op in operations:
        declared.setdefault(op.path, set()).add(op.method)
        urls[op.path] = op.url
    for path, methods in declared.items():
        for method in set(METHODS) - methods:
            response = client.generic(method.upper(), urls[path], b"{}", content_type="application/json")
            assert response.status_code in {401, 403, 404, 405}, (
                f"{method.upper()} {path}: undeclared method answered {response.status_code}")


# -- staff sessions -------------------------------------------------------------------------------------


def test_staff_without_a_verified_otp_device_is_refused(client: Client, operations: list[Operation],
                                                       make_staff: Callable[..., StaffAccount]) -> None:
    client.force_login(make_staff(Role.OFFICE_SUPERVISOR).user)  # password only: no OTP step
    for op in _staff_operations(operations):
        response = call(client, op)
        assert response.status_code in REFUSED, f"{op}: unverified session answered {response.status_code}"


def test_staff_sessions_cannot_call_machine_endpoints(client: Client, operations: list[Operation],
                                                     make_staff: Callable[..., StaffAccount]) -> None:
    sign_in(client, make_staff(Role.MOI_ADMIN))  # the role that registers the machine clients
    machine = _machine_operations(operations)
    assert machine
    for op in machine:
        response = call(client, op)
        assert response.status_code in REFUSED, f"{op}: a staff session answered {response.status_code}"


def test_a_verified_staff_session_passes_authentication(client: Client, operations: list[Operation],
                                                       make_staff: Callable[..., StaffAccount]) -> None:
    """The control for the refusals above: the same calls with a verified session get past the auth
    check, and bad input never makes a staff operation fail with a 500."""
    sign_in(client, make_staff(Role.OFFICE_SUPERVISOR))
    for op in _staff_operations(operations):
        response = call(client, op)
        assert response.status_code not in {401, 500}, f"{op}: answered {response.status_code}"
        _assert_clean(response, str(op))


def test_unsafe_methods_need_the_csrf_token(make_staff: Callable[..., StaffAccount],
                                            operations: list[Operation]) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.get("/login/")
    account = make_staff(Role.OFFICE_SUPERVISOR)
    signed_in = strict.post("/login/", {"username": account.username, "password": account.password,
                                        "otp_token": account.token(),
                                        "csrfmiddlewaretoken": strict.cookies["csrftoken"].value})
    assert signed_in.status_code == 302
    unsafe = [op for op in _staff_operations(operations) if op.method in UNSAFE]
    assert unsafe
    token = strict.cookies["csrftoken"].value
    for op in unsafe:
        refused = call(strict, op)
        assert refused.status_code == 403, f"{op}: without a CSRF token answered {refused.status_code}"
        wrong = call(strict, op, HTTP_X_CSRFTOKEN="x" * 32)
        assert wrong.status_code == 403, f"{op}: with a wrong CSRF token answered {wrong.status_code}"
        accepted = call(strict, op, HTTP_X_CSRFTOKEN=token)
        assert accepted.status_code not in {401, 500}, f"{op}: with the token answered {accepted.status_code}"
    assert strict.get("/api/me").status_code == 200  # safe methods need no token


# -- machine clients --------------------------------------------------------------------------------------


def test_machine_tokens_work_in_their_own_scope_only(client: Client, operations: list[Operation],
                                                     systems: Systems) -> None:
    machine = _machine_operations(operations)
    assert {op.machine_scope for op in machine} == set(SystemScope)
    for op in machine:
        for scope in SystemScope:
            response = call(client, op, **systems.auth(scope))
            if scope is op.machine_scope:
                assert response.status_code not in {401, 403, 500}, (
                    f"{op}: its own scope's token answered {response.status_code}")
            else:
                assert response.status_code in REFUSED, (
                    f"{op}: a {scope.value} token answered {response.status_code}")
    for op in _staff_operations(operations):
        for scope in SystemScope:
            response = call(client, op, **systems.auth(scope))
            assert response.status_code in REFUSED, f"{op}: a {scope.value} token answered " \
                                                    f"{response.status_code}"
    for op in machine:
        assert call(client, op, HTTP_AUTHORIZATION="Bearer nex_forged").status_code in REFUSED, op


def test_revoked_and_pending_machine_tokens_are_refused(client: Client, operations: list[Operation],
                                                        systems: Systems) -> None:
    from neweid.server.exchange.systems import do_register_system, do_revoke_system

    pending = do_register_system("centre-2", SystemScope.PRODUCTION, acting_user=systems.maker.user)
    do_revoke_system(systems.production.name, acting_user=systems.maker.user)
    for op in _machine_operations(operations):
        if op.machine_scope is SystemScope.PRODUCTION:
            for token in (pending.token, systems.production_token):
                response = call(client, op, HTTP_AUTHORIZATION=f"Bearer {token}")
                assert response.status_code in REFUSED, f"{op}: answered {response.status_code}"


# -- public endpoints show no personal data -------------------------------------------------------------


KNOWN_ID = "F223456786"
SURNAME, GIVEN_NAME, ROMANISED = "龔", "鈺琪", "KUNG, YU-CHI"


def _known_person() -> Person:
    from neweid.formats.idnumber import is_valid_id_number

    assert is_valid_id_number(KNOWN_ID)
    return make_person(id_number=KNOWN_ID, surname=SURNAME, given_name=GIVEN_NAME, romanised_name=ROMANISED,
                       birth_date=date(1987, 3, 14), father_name="龔大同", mother_name="張美玉")


def _personal_values(person: Person) -> list[str]:
    return [person.id_number, person.surname + person.given_name, person.given_name, person.romanised_name,
            "KUNG", str(person.father_name), str(person.mother_name), person.birth_date.isoformat(),
            "19870314", "760314", person.household.address, person.household.household_number]


def _assert_no_personal_data(body: Any, person: Person, what: str) -> None:
    text = json.dumps(body, ensure_ascii=False)
    for value in _personal_values(person):
        assert value not in text, f"{what} shows personal data ({value!r}): {text}"


def test_public_endpoints_answer_statuses_only(client: Client, office: Office,
                                              make_staff: Callable[..., StaffAccount]) -> None:
    clerk = make_staff(Role.OFFICE_CLERK)
    person = _known_person()
    application = make_application(person, office, status=Status.SUBMITTED)
    certificate = do_issue_temporary_certificate(application.pk, acting_user=clerk.user, days=10)
    card = make_card(person, office, state=CardState.ISSUED, application=application)
    chip_list = do_issue_chip_data_list(card.pk, acting_user=clerk.user)
    anonymous = Client()

    checks: list[tuple[str, set[str]]] = [
        (f"/api/temporary-certificates/verification/{display(certificate.serial)}",
         {"state", "valid_from", "valid_until", "office"}),
        (f"/api/temporary-certificates/status/{display(certificate.serial)}", {"progress"}),
        (f"/api/loss/chip-data-lists/{display(chip_list.serial)}", {"state", "valid_from", "valid_until",
                                                                    "office"}),
    ]
    probes = (KNOWN_ID, card.serial, str(application.pk), person.romanised_name, "' OR '1'='1",  # guesses
              "..%2F..%2Fetc%2Fpasswd", "%00", "9" * 500)
    for probe in probes:
        checks += [(f"/api/temporary-certificates/verification/{probe}", {"state", "valid_from",
                                                                          "valid_until", "office"}),
                   (f"/api/temporary-certificates/status/{probe}", {"progress"}),
                   (f"/api/loss/chip-data-lists/{probe}", {"state", "valid_from", "valid_until", "office"})]
    answers = []
    for url, keys in checks:
        response = anonymous.get(url)
        _assert_clean(response, url)
        if "%2F" in url and response.status_code == 404:  # a "/" in the serial: no such URL
            continue
        assert response.status_code == 200, url
        body = response.json()
        assert set(body) <= keys, f"{url}: unexpected keys {sorted(set(body) - keys)}"
        _assert_no_personal_data(body, person, url)
        for key, value in body.items():
            if key in {"state", "progress"}:
                assert re.fullmatch(r"[a-z_]+", value), f"{url}: {key}={value!r} is not a status word"
            elif key == "office":
                assert value in {"", office.code}, url
            else:
                assert value is None or re.fullmatch(r"\d{4}-\d\d-\d\d", value), url
        answers.append(body)
    assert answers[0]["state"] == "card_issued" and answers[1]["progress"] == "issued"
    assert answers[2]["state"] == "valid"
    assert len(answers) > 20
    assert all(a.get("state", a.get("progress")) == "unknown" for a in answers[3:])  # guesses find nothing


def test_health_shows_no_configuration(client: Client) -> None:
    body = client.get("/api/health").json()
    assert set(body) == {"status", "version", "database"}
    assert body["database"] in {"sqlite", "postgresql"}


# -- audit entries carry no personal data ---------------------------------------------------------------


@pytest.fixture
def _simulated_ca(monkeypatch: pytest.MonkeyPatch) -> SimulatedCitizenCa:
    simulated = SimulatedCitizenCa()
    for module in ("loss", "voiding"):
        monkeypatch.setattr(f"neweid.server.operations.{module}.get_citizen_ca", lambda: simulated)
    monkeypatch.setattr("neweid.server.operations.rules.OfficeHours.are_open", lambda self, at: True)
    return simulated


def test_audit_entries_carry_no_personal_data(client: Client, office: Office, _simulated_ca: Any,
                                              make_staff: Callable[..., StaffAccount]) -> None:
    applicant = make_registered_person(id_number=KNOWN_ID, surname=SURNAME, given_name=GIVEN_NAME,
                                       romanised_name=ROMANISED, birth_date=date(1987, 3, 14),
                                       father_name="龔大同", mother_name="張美玉")
    loser = make_registered_person(surname="龔", given_name="曉蘭", romanised_name="KUNG, HSIAO-LAN",
                        birth_date=date(1979, 11, 2), father_name="龔大同", mother_name="張美玉")
    make_card(loser, office, state=CardState.ISSUED)
    sign_in(client, make_staff(Role.OFFICE_CLERK))
    before = AuditEntry.objects.count()

    photo = SimpleUploadedFile("photo.jpg", jpeg(), content_type="image/jpeg")
    submitted = client.post("/api/applications/", {"id_number": applicant.id_number, "channel": "counter",
                                                    "kind": "nationwide_replacement", "photo": photo,
                                                    "contact_email": "kung@example.tw",
                                                    "contact_phone": "0912345678"})
    assert submitted.status_code == 201, submitted.content
    refused = client.post("/api/applications/", {"id_number": applicant.id_number, "channel": "counter",
                                                  "kind": "nationwide_replacement",
                                                  "photo": SimpleUploadedFile("p.jpg", jpeg(),
                                                                              content_type="image/jpeg")})
    assert refused.status_code >= 400  # a second open application: refused, and audited as such

    def post(url: str, body: dict[str, Any]) -> Any:
        return client.post(url, json.dumps(body), content_type="application/json")

    reported = post("/api/loss/reports", {"id_number": loser.id_number, "channel": "counter"})
    assert reported.status_code == 201, reported.content
    assert post("/api/loss/reports", {"id_number": loser.id_number, "channel": "counter"}).status_code == 409
    assert post("/api/loss/reports", {"id_number": applicant.id_number, "channel": "counter"}
                ).status_code >= 400  # no card in use
    revoked = post("/api/loss/revocations", {"id_number": loser.id_number, "channel": "phone"})
    assert revoked.status_code == 200
    temporary = post("/api/temporary-certificates/", {"application_id": submitted.json()["id"], "days": 10})
    assert temporary.status_code == 201, temporary.content
    assert client.get("/applications/find/", {"id_number": applicant.id_number}).status_code == 200

    entries = list(AuditEntry.objects.order_by("seq"))  # the fixtures' entries too
    assert len(entries) > before
    functions = {e.function for e in entries}
    assert any("loss" in f for f in functions) and any("application" in f for f in functions), functions
    secrets = [*_personal_values(applicant), *_personal_values(loser), "kung@example.tw", "0912345678",
               applicant.household.address]
    for entry in entries:
        text = json.dumps({name: str(value) for name, value in entry.hashed_fields().items()} |
                          {"extra": entry.extra, "hash": entry.hash}, ensure_ascii=False)
        for value in secrets:
            assert value not in text, f"audit entry #{entry.seq} ({entry.function}) holds {value!r}: {text}"
