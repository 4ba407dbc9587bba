"""Every test runs in its own temporary folder, so the files the app writes where it runs
(history exports, sessions, scripts) never land in the repository."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _run_in_a_temporary_folder(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
