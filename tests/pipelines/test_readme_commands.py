"""Every shell command and Python block of the README, in order, as a user types them in a fresh
folder: the tiny preset in place of the one named, this checkout for `.`, free ports for the servers."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml

from tests.conftest import free_port, stop_process_group, wait_for_http
from tests.pipelines.conftest import ROOT

pytestmark = pytest.mark.slow  # integration: trains models, runs MLflow (pytest -m "not slow" leaves it out)

README = ROOT / "README.md"
# run by .ci/run itself: the install, and the test suite this test belongs to
NOT_RUN_HERE = ("python3 -m venv", ". .venv/bin/activate", "pip install", "python -m pytest")
SERVERS = {"mlflow ui": "/health", "mlflow models serve": "/ping"}


def readme_blocks() -> list[list[str]]:
    """The README's ```bash blocks, each a list of commands (``&&`` chains split, continuations joined)."""
    blocks = []
    for block in re.findall(r"```bash\n(.*?)```", README.read_text(), re.S):
        lines = block.replace("\\\n", " ").splitlines()
        blocks.append([part.strip() for line in lines for part in line.split(" && ") if part.strip()])
    return blocks


def as_tested(command: str, ports: dict[str, int]) -> str:
    """The README command as the test runs it: the tiny preset in place of the one named (CRTS
    presets by the tiny synthetic CRTS-like survey), this checkout for ``.``, free ports."""
    entry = re.search(r"mlflow run \. -e (\w+)", command)
    if entry:
        command = command.replace("mlflow run . ", f"mlflow run {ROOT} ")
        parameters = yaml.safe_load((ROOT / "MLproject").read_text())["entry_points"][entry.group(1)]["parameters"]
        if "preset" in parameters:
            command = re.sub(r" -P preset=crts\w*", " -P source=synthetic-crts -P settings=data.class_set=crts", command)
            command = re.sub(r" -P preset=\w+", "", command) + " -P preset=tiny"
    for port, free in ports.items():
        command = command.replace(f":{port}", f":{free}").replace(f"--port {port}", f"--port {free}")
    return re.sub(r"(?<=[ =:@])(tests/data/)", f"{ROOT}/tests/data/", command)


def test_every_shell_command_in_the_readme_works(project):
    ports = {port: free_port() for port in re.findall(r"--port (\d+)", README.read_text())}
    ran = 0
    for block in readme_blocks():
        servers = []
        try:
            for command in block:
                if command.startswith(NOT_RUN_HERE):
                    continue
                tested = as_tested(command, ports)
                server = next((path for prefix, path in SERVERS.items() if prefix in command), None)
                if server:
                    process = subprocess.Popen(tested.rstrip("& "), shell=True, cwd=project.folder, env=project.env,
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                               start_new_session=True)
                    servers.append(process)
                    port = re.search(r"--port (\d+)", tested).group(1)
                    wait_for_http(f"http://127.0.0.1:{port}{server}", process)
                else:
                    result = subprocess.run(tested, shell=True, cwd=project.folder, env=project.env,
                                            capture_output=True, text=True, timeout=900)
                    assert result.returncode == 0, f"{command}\n{result.stderr[-3000:]}"
                    if command.startswith("curl"):
                        assert len(json.loads(result.stdout)["predictions"]) == 2, result.stdout[:500]
                ran += 1
        finally:
            for process in servers:
                stop_process_group(process)
    assert ran >= 10
    for block in re.findall(r"```python\n(.*?)```", README.read_text(), re.S):  # on the tiny data set
        code = block.replace('read_source("synthetic-ogle", class_set="ogle")',
                             'read_source("synthetic-ogle", class_set="ogle", size="tiny", min_points=40)')
        result = subprocess.run([sys.executable, "-c", code], cwd=project.folder, env=project.env,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0 and "probability" in result.stdout, f"{block}\n{result.stderr[-3000:]}"
