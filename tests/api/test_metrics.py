"""`/metrics`: requests by route template and status, their latency, and logins, counted."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from orchestrade.auth import Role

from .conftest import PASSWORDS, Api


def samples(api: Api) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = api.client.get("/metrics", headers=api.headers(Role.VIEWER))
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def requests(method: str, route: str, status: str) -> tuple[str, frozenset[tuple[str, str]]]:
    labels = {"method": method, "route": route, "status": status}
    return "orchestrade_http_requests_total", frozenset(labels.items())


def test_requests_are_counted_by_route_template_and_status(api: Api) -> None:
    viewer = api.headers(Role.VIEWER)  # one login
    api.client.get("/api/v1/orders/o-1", headers=viewer)
    api.client.get("/api/v1/orders/o-2", headers=viewer)
    api.client.get("/api/v1/orders")
    api.client.get("/no/such/path")
    api.client.get("/another/missing/path")

    counted = samples(api)

    assert counted[requests("GET", "/api/v1/orders/{order_id}", "404")] == 2
    assert counted[requests("GET", "/api/v1/orders", "401")] == 1
    assert counted[requests("GET", "unmatched", "404")] == 2
    assert counted[requests("POST", "/api/v1/auth/login", "200")] == 1
    latency = (
        "orchestrade_http_request_duration_seconds_count",
        frozenset({"method": "GET", "route": "/api/v1/orders/{order_id}"}.items()),
    )
    assert counted[latency] == 2


def test_logins_are_counted_by_outcome(api: Api) -> None:
    for _ in range(5):
        api.client.post("/api/v1/auth/login", json={"username": "tom", "password": "wrong one"})
    api.client.post(
        "/api/v1/auth/login", json={"username": "tom", "password": PASSWORDS[Role.TRADER]}
    )

    counted = samples(api)  # logs the viewer in: one more success

    def logins(outcome: str) -> float:
        return counted[("orchestrade_logins_total", frozenset({("outcome", outcome)}))]

    assert (logins("denied"), logins("rate_limited"), logins("ok")) == (5, 1, 1)


def test_the_process_is_described_too(api: Api) -> None:
    names = {name for name, _ in samples(api)}

    assert {"python_info", "process_cpu_seconds_total"} <= names
