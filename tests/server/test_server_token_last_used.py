"""API tokens' "last used" is recorded by the server, on SQLite and PostgreSQL (issue 27)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from server_world import World, bearer, login
from sqlalchemy import select

from bastion.store.models import ApiToken, utcnow


def _stamps(world: World) -> dict[str, object]:
    with world.store.read() as session:
        return {f"{t.project_id}:{t.name}": t.last_used_at for t in session.scalars(select(ApiToken))}


def test_a_token_used_on_the_api_shows_when_it_was_last_used(both: World) -> None:
    assert set(_stamps(both).values()) == {None}
    with TestClient(both.app, base_url="http://testserver", follow_redirects=False) as client:
        before = utcnow()
        assert (
            client.get("/api/v1/projects/demo/findings", headers=bearer(both.demo_token)).status_code == 200
        )
        stamps = _stamps(both)
        used = stamps.pop("1:ci")
        assert used is not None and before - timedelta(seconds=1) <= used
        assert set(stamps.values()) == {None}, "only the token that was presented is stamped"

        # Within a minute a second call does not rewrite the stamp; a stale stamp is renewed.
        assert (
            client.get("/api/v1/projects/demo/findings", headers=bearer(both.demo_token)).status_code == 200
        )
        assert _stamps(both)["1:ci"] == used
        with both.store.write() as session:
            token = session.scalars(
                select(ApiToken).where(ApiToken.name == "ci", ApiToken.project_id == 1)
            ).one()
            token.last_used_at = used - timedelta(hours=2)
        assert client.get("/api/v1/projects/demo", headers=bearer(both.demo_token)).status_code == 200
        renewed = _stamps(both)["1:ci"]
        assert renewed is not None and renewed >= used

        # A refused token stamps nothing.
        assert (
            client.get("/api/v1/projects/demo/findings", headers=bearer(both.demo_token + "x")).status_code
            == 401
        )
        assert _stamps(both)["1:ci"] == renewed

        # A maintainer sees it on the API and on the project page.
        login(client, "maya")
        listed = {t["name"]: t["last_used_at"] for t in client.get("/api/v1/projects/demo/tokens").json()}
        assert listed["ci"] == renewed.isoformat()
        assert listed["reader"] is None
        page = client.get("/projects/demo").text
        assert renewed.strftime("%Y-%m-%d %H:%M") in page
