"""`lrtui serve`: the app served to a browser on a loopback port."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, deadline: float) -> str:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_serve_answers_with_the_page_and_stops() -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "lrtui", "serve", "--port", str(port), "--data", "noisy"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        page = fetch(f"http://127.0.0.1:{port}/", time.monotonic() + 30)
        assert "textual.js" in page and "xterm.css" in page
        assert f"ws://127.0.0.1:{port}/ws" in page
    finally:
        server.send_signal(signal.SIGINT)
        try:
            output, _ = server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
    assert "Traceback" not in output
    assert "-m lrtui --data noisy --speed 10" in output


@pytest.mark.parametrize(("argv", "flag"), [(["--port", "0"], "--port"), (["--lr", "-1"], "--lr")])
def test_serve_refuses_bad_flags(argv: list[str], flag: str) -> None:
    result = subprocess.run([sys.executable, "-m", "lrtui", "serve", *argv], capture_output=True, text=True)
    assert result.returncode == 2 and flag in result.stderr
