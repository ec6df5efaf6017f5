"""The dashboard as the API serves it: its page at `/`, its files under `/static`, every
module its page loads present, and the API's own routes and errors untouched."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from orchestrade.dashboard import DashboardFilesMissingError, mount_dashboard
from orchestrade.dashboard.mount import STATIC_DIR

IMPORT = re.compile(r"""(?:^|\n)\s*(?:import|export)\b[^"';]*?from\s+["']([^"']+)["']""")
BARE_IMPORT = re.compile(r"""(?:^|\n)\s*import\s+["']([^"']+)["']""")
PAGE_ASSET = re.compile(r"""(?:src|href)="(static/[^"]+)\"""")


def test_the_page_is_served_at_the_root_with_its_safety_headers(client: TestClient) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="static/js/main.js"></script>' in response.text
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"


def test_static_files_are_served_with_their_types_and_revalidated(client: TestClient) -> None:
    script = client.get("/static/js/main.js")
    style = client.get("/static/css/app.css")

    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "no-cache"
    assert style.headers["content-type"].startswith("text/css")
    again = client.get("/static/js/main.js", headers={"If-None-Match": script.headers["etag"]})
    assert again.status_code == 304


def test_every_asset_of_the_page_and_every_module_import_is_served(client: TestClient) -> None:
    """Walk the module graph from index.html as a browser would (relative URLs)."""
    page = client.get("/").text
    pending = [f"/{path}" for path in PAGE_ASSET.findall(page)]
    seen: set[str] = set()
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, url
        if url.endswith(".js"):
            base = url.rsplit("/", 1)[0]
            for target in IMPORT.findall(response.text) + BARE_IMPORT.findall(response.text):
                assert target.startswith("."), f"{url} imports {target!r}: not a relative path"
                pending.append(_resolve(base, target))

    modules = {url for url in seen if url.endswith(".js")}
    on_disk = {
        "/static/" + path.relative_to(STATIC_DIR).as_posix() for path in STATIC_DIR.rglob("*.js")
    }
    assert modules == on_disk, "a module is unreachable from the page, or missing"
    assert "/static/vendor/uplot/uPlot.esm.js" in modules


def test_missing_files_and_escapes_answer_the_api_s_json_404(client: TestClient) -> None:
    for url in ("/static/js/nope.js", "/static/../pyproject.toml", "/static/%2e%2e/mount.py"):
        response = client.get(url)

        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"


def test_only_reading_is_allowed(client: TestClient) -> None:
    response = client.post("/static/js/main.js")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert client.post("/").status_code == 405


def test_the_api_keeps_its_routes_and_documents_no_dashboard_route(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert "/" not in paths
    assert not any(path.startswith("/static") for path in paths)
    assert client.get("/api/v1/health").json()["status"] == "ok"
    unknown = client.get("/api/v1/no-such-route")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"


def test_a_missing_page_is_a_clear_error_naming_the_folder(tmp_path: Path) -> None:
    with pytest.raises(DashboardFilesMissingError, match=re.escape(str(tmp_path))):
        mount_dashboard(FastAPI(), tmp_path)


def test_another_folder_can_be_served(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>x</title>", encoding="utf-8")
    (tmp_path / "a.txt").write_text("hello", encoding="utf-8")
    app = FastAPI()
    mount_dashboard(app, tmp_path)

    with TestClient(app) as client:
        assert client.get("/").text == "<!doctype html><title>x</title>"
        assert client.get("/static/a.txt").text == "hello"


def _resolve(base: str, target: str) -> str:
    parts = base.split("/")
    for part in target.split("/"):
        if part == "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)
