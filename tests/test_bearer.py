"""Bearer checks shared by /hooks/argocd, /hooks/registry/* and /api/releases/promote."""

from __future__ import annotations

import pytest

from previewd.http.bodies import verify_bearer


@pytest.mark.parametrize("header", [None, "", "Bearer ", "Bearer anything", "Basic dG9rZW4="])
def test_no_configured_token_refuses_everything(header: str | None) -> None:
    # e.g. releases.api_token unset: promote through the API is closed, not open.
    assert not verify_bearer(None, header)
    assert not verify_bearer("", header)


def test_only_the_exact_token_passes() -> None:
    assert verify_bearer("t0ken", "Bearer t0ken")
    for header in ("Bearer t0ken2", "bearer t0ken", "Bearer  t0ken", "t0ken", None):
        assert not verify_bearer("t0ken", header)
