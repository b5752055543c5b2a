"""Static checks of the deployment files: compose, Dockerfile, gunicorn settings, systemd
units, Packer template, shell scripts (shellcheck), and that no secret is committed.

The boot-time scripts' refusals (missing role, placeholder token, ...) are exercised too:
they run in milliseconds and start nothing.
"""

from __future__ import annotations

import dataclasses
import os
import re
import runpy
import shutil
import socket
import stat
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import timing

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
ENV_EXAMPLE = REPO / ".env.example"
GUNICORN_CONF = REPO / "gunicorn.conf.py"
SYSTEMD = REPO / "deploy" / "systemd"
BIN = REPO / "deploy" / "bin"
PACKER = REPO / "packer"
APP_DIR_ON_AMI = "/opt/spl/app"
APP_DIR_IN_IMAGE = "/app"
SERVICES = {"app", "ray-head", "ray-worker", "redis"}
RESTART_POLICIES = {"always", "unless-stopped", "on-failure"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


# ----------------------------------------------------------------- docker-compose.yml


def test_compose_has_the_four_services(compose: dict[str, Any]) -> None:
    assert set(_services(compose)) == SERVICES


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_a_healthcheck_and_a_restart_policy(compose: dict[str, Any], name: str) -> None:
    service = _services(compose)[name]
    assert service.get("restart") in RESTART_POLICIES
    check = service.get("healthcheck") or {}
    assert check.get("test") and not check.get("disable"), f"{name} has no health check"
    assert check["test"][0] in ("CMD", "CMD-SHELL")


def test_only_the_app_publishes_a_port(compose: dict[str, Any]) -> None:
    publishing = {name for name, service in _services(compose).items() if service.get("ports")}
    assert publishing == {"app"}
    (mapping,) = _services(compose)["app"]["ports"]
    assert str(mapping).endswith(":8050")
    for name in ("ray-head", "ray-worker", "redis"):
        service = _services(compose)[name]
        assert "network_mode" not in service, f"{name} must stay on the private compose network"


def test_ray_workers_scale(compose: dict[str, Any]) -> None:
    worker = _services(compose)["ray-worker"]
    assert "container_name" not in worker and "ports" not in worker and "hostname" not in worker


def test_dependencies_wait_for_health(compose: dict[str, Any]) -> None:
    for name, service in _services(compose).items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert condition == {"condition": "service_healthy"}, f"{name} -> {dependency}"
    assert set(_services(compose)["app"]["depends_on"]) == {"redis", "ray-head"}
    assert set(_services(compose)["ray-worker"]["depends_on"]) == {"ray-head"}


def test_redis_password_comes_from_the_environment(compose: dict[str, Any]) -> None:
    redis = _services(compose)["redis"]
    assert re.fullmatch(r"\$\{REDIS_PASSWORD:\?[^}]+\}", redis["environment"]["REDISCLI_AUTH"])
    command = " ".join(redis["command"])
    assert "requirepass $${REDISCLI_AUTH" in command
    app_url = _services(compose)["app"]["environment"]["CACHE_REDIS_URL"]
    assert app_url.startswith("redis://:${REDIS_PASSWORD:?") and app_url.endswith("@redis:6379/0")
    assert _services(compose)["app"]["environment"]["CACHE_TYPE"] == "RedisCache"


@pytest.mark.parametrize("name", ["app", "ray-head", "ray-worker"])
def test_ray_token_authentication_everywhere(compose: dict[str, Any], name: str) -> None:
    env = _services(compose)[name]["environment"]
    assert env["RAY_AUTH_MODE"] == "token"
    assert re.fullmatch(r"\$\{RAY_AUTH_TOKEN:\?[^}]+\}", env["RAY_AUTH_TOKEN"])


def test_ray_services_run_the_repo_scripts_with_room_for_the_object_store(compose: dict[str, Any]) -> None:
    services = _services(compose)
    for name, role in (("ray-head", "head"), ("ray-worker", "worker")):
        service = services[name]
        assert service["entrypoint"] == [f"{APP_DIR_IN_IMAGE}/deploy/bin/ray-node.sh"]
        assert service["environment"]["SPL_ROLE"] == role
        assert service["healthcheck"]["test"] == ["CMD", f"{APP_DIR_IN_IMAGE}/deploy/bin/ray-health.sh"]
        assert _bytes(service["shm_size"]) >= 1024**3
        assert service.get("image") == services["app"]["image"], "every node must run the same Ray"
        assert service.get("build") == services["app"]["build"] == {"context": "."}
    assert services["ray-worker"]["environment"]["RAY_HEAD_ADDRESS"] == "ray-head:6379"
    assert services["app"]["environment"]["RAY_ADDRESS"] == "ray-head:6379"
    assert "--include-dashboard=false" in (BIN / "ray-node.sh").read_text()


def _bytes(size: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kmg]?)b?", str(size).lower()).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit]


def _compose_variables() -> set[str]:
    text = re.sub(r"(?m)^\s*#.*$", "", COMPOSE.read_text())
    text = re.sub(r"\$\$\{?[A-Za-z_]+", "", text)  # $$ is a literal $ for the container
    return set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))


def _env_example_keys() -> set[str]:
    return set(re.findall(r"^#?\s?([A-Z_][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))


def test_env_example_documents_every_compose_variable() -> None:
    missing = _compose_variables() - _env_example_keys()
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_env_example_documents_every_app_and_gunicorn_setting() -> None:
    from dashapp.config import AppConfig

    app_settings = {f.name for f in dataclasses.fields(AppConfig)}
    gunicorn_settings = set(
        re.findall(r"""(?:_env_int|os\.environ\.get)\("([A-Z_]+)\"""", GUNICORN_CONF.read_text())
    )
    missing = (app_settings | gunicorn_settings) - _env_example_keys()
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_env_example_secrets_are_loud_placeholders() -> None:
    values = dict(re.findall(r"^([A-Z_][A-Z0-9_]*)=(.*)$", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))
    for key in ("RAY_AUTH_TOKEN", "REDIS_PASSWORD", "SECRET_KEY"):
        assert values[key].startswith("change-me"), key
    assert values["RAY_AUTH_MODE"] == "token"


# ----------------------------------------------------------------- Dockerfile and .dockerignore


def _dockerfile() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [
        line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")
    ]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def test_dockerfile_base_user_healthcheck_and_entrypoint() -> None:
    instructions = _dockerfile()
    kinds = [kind for kind, _ in instructions]
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", dict(instructions)["FROM"])
    users = [arg for kind, arg in instructions if kind == "USER"]
    assert users and users[-1] not in ("root", "0"), "the container must not run as root"
    assert kinds.index("USER") > max(i for i, kind in enumerate(kinds) if kind == "RUN")
    (healthcheck,) = [arg for kind, arg in instructions if kind == "HEALTHCHECK"]
    assert "/health" in healthcheck and "urllib" in healthcheck and "curl" not in healthcheck
    (entrypoint,) = [arg for kind, arg in instructions if kind == "ENTRYPOINT"]
    assert f"{APP_DIR_IN_IMAGE}/deploy/bin/app.sh" in entrypoint
    assert 'exec "$python" -m gunicorn -c "$app_dir/gunicorn.conf.py"' in (BIN / "app.sh").read_text()


def test_dockerfile_exec_forms_are_valid_json() -> None:
    import json

    for kind, arg in _dockerfile():
        text = arg.split("CMD", 1)[1].strip() if kind == "HEALTHCHECK" else arg
        if kind in ("ENTRYPOINT", "CMD", "HEALTHCHECK"):
            assert isinstance(json.loads(text), list), f"{kind} must use the exec (JSON) form"


def test_dockerfile_installs_dependencies_before_copying_code() -> None:
    instructions = _dockerfile()
    position = {f"{kind} {arg}": i for i, (kind, arg) in enumerate(instructions)}
    requirements = next(i for key, i in position.items() if key.startswith("COPY requirements.txt"))
    install = next(i for key, i in position.items() if key.startswith("RUN pip install -r requirements.txt"))
    first_code = min(i for key, i in position.items() if key.startswith("COPY") and "engine/" in key)
    assert requirements < install < first_code


def test_dockerfile_bakes_no_secret() -> None:
    for kind, arg in _dockerfile():
        if kind in ("ENV", "ARG"):
            assert not re.search(r"TOKEN|PASSWORD|SECRET|REDIS_URL", arg), arg
        if kind == "COPY":
            assert ".env" not in arg.split()


def test_dockerignore_keeps_the_context_clean() -> None:
    ignored = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()}
    for entry in (".git", "tests", ".env", "data", "**/__pycache__", ".pytest_cache", ".hypothesis"):
        assert entry in ignored, entry


# ----------------------------------------------------------------- gunicorn.conf.py


@pytest.fixture
def gunicorn_conf(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Load gunicorn.conf.py as gunicorn does; the environment it touches is restored afterwards."""
    saved = dict(os.environ)
    for name in (
        "SPL_BIND",
        "WEB_CONCURRENCY",
        "GUNICORN_THREADS",
        "GUNICORN_TIMEOUT",
        "GUNICORN_KEEPALIVE",
        "GUNICORN_GRACEFUL_TIMEOUT",
        "FORWARDED_ALLOW_IPS",
        "SECRET_KEY",
    ):
        monkeypatch.delenv(name, raising=False)

    def load(**env: str) -> types.SimpleNamespace:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return types.SimpleNamespace(**runpy.run_path(str(GUNICORN_CONF)))

    yield load
    os.environ.clear()
    os.environ.update(saved)  # gunicorn.conf.py sets SECRET_KEY itself, outside monkeypatch


def test_gunicorn_settings(gunicorn_conf: Any) -> None:
    conf = gunicorn_conf()
    assert conf.wsgi_app == "dashapp.wsgi:application"
    assert conf.worker_class == "gthread"
    assert conf.bind == ["127.0.0.1:8050"]
    assert conf.keepalive > 60, "must outlive the ALB's 60 s idle timeout"
    assert conf.timeout >= 60 and conf.graceful_timeout > 0
    assert conf.preload_app is False, "Ray must not be initialised before the fork"
    assert conf.accesslog == "-" and conf.errorlog == "-"
    assert conf.reload is False and not getattr(conf, "debug", False)
    assert conf.limit_request_line > 0 and conf.limit_request_fields > 0
    assert conf.control_socket_disable is True


def test_gunicorn_gives_all_workers_one_secret_key(gunicorn_conf: Any) -> None:
    gunicorn_conf()
    generated = os.environ["SECRET_KEY"]  # set in the master, inherited by every forked worker
    assert len(generated) == 64
    gunicorn_conf()
    assert os.environ["SECRET_KEY"] == generated, "a reload must not change the key"
    gunicorn_conf(SECRET_KEY="from-the-deployment")
    assert os.environ["SECRET_KEY"] == "from-the-deployment"


def test_gunicorn_reads_the_environment(gunicorn_conf: Any) -> None:
    conf = gunicorn_conf(SPL_BIND="0.0.0.0:9000", WEB_CONCURRENCY="3", GUNICORN_THREADS="8")
    assert (conf.bind, conf.workers, conf.threads) == (["0.0.0.0:9000"], 3, 8)


def test_gunicorn_rejects_a_malformed_number(gunicorn_conf: Any) -> None:
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY must be a whole number"):
        gunicorn_conf(WEB_CONCURRENCY="two")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("1_6", "'1_6'"),  # int() read it as 16
        ("\u0661\u0666", "'\u0661\u0666'"),  # Arabic-Indic 16: int() read it as 16
        ("9" * 5000, "(5,000 characters)"),  # int() raised ValueError past 4,300 digits; the echo is short
    ],
)
def test_gunicorn_reads_digits_0_to_9_only(gunicorn_conf: Any, raw: str, shown: str) -> None:
    with pytest.raises(SystemExit) as caught:
        gunicorn_conf(GUNICORN_THREADS=raw)
    message = str(caught.value)
    assert "GUNICORN_THREADS must be a whole number of at most 9 digits" in message and shown in message
    assert len(message) < 200


def test_gunicorn_takes_a_signed_number(gunicorn_conf: Any) -> None:
    assert gunicorn_conf(GUNICORN_THREADS="+8").threads == 8


def test_every_gunicorn_name_is_a_real_setting(gunicorn_conf: Any) -> None:
    from gunicorn.config import Config

    config = Config()
    helpers = {"annotations", "os", "secrets", "Any"}
    for name, value in vars(gunicorn_conf()).items():
        if name.startswith("_") or name in helpers:
            continue
        assert name in config.settings, f"gunicorn has no setting {name!r} (a typo would be silently ignored)"
        config.set(name, value)  # validates the value's type
    assert Config().settings["wsgi_app"] is not None


def test_wsgi_module_exists() -> None:
    assert (REPO / "dashapp" / "wsgi.py").is_file()
    assert "application = " in (REPO / "dashapp" / "wsgi.py").read_text()


def _fake_cluster(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    fake = types.ModuleType("engine.execution.cluster")
    fake.shutdown_embedded_cluster = lambda: calls.append("stopped")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "engine.execution.cluster", fake)
    return calls


def test_on_exit_stops_the_embedded_ray_head(
    gunicorn_conf: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls = _fake_cluster(monkeypatch)
    (tmp_path / "cluster.json").write_text("{}")  # a head is recorded
    monkeypatch.setenv("SPL_RUNTIME_DIR", str(tmp_path))
    gunicorn_conf().on_exit(types.SimpleNamespace(log=None))
    assert calls == ["stopped"]


def test_on_exit_without_a_recorded_head_imports_nothing(
    gunicorn_conf: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Breaker pass 11, F5: on_exit imported engine.execution.cluster (the whole engine:
    # pandas, numba, scipy; 10-20 s on a loaded host) on every stop, even with no Ray.
    calls = _fake_cluster(monkeypatch)
    monkeypatch.setenv("SPL_RUNTIME_DIR", str(tmp_path / "never-made"))
    gunicorn_conf().on_exit(types.SimpleNamespace(log=None))
    (tmp_path / "run").mkdir()  # the runtime dir, but no head recorded in it (serial executor)
    monkeypatch.setenv("SPL_RUNTIME_DIR", str(tmp_path / "run"))
    gunicorn_conf().on_exit(types.SimpleNamespace(log=None))
    assert calls == []


def test_on_exit_without_a_head_leaves_the_engine_unimported(tmp_path: Path) -> None:
    """In a fresh interpreter, as gunicorn's master: on_exit with no recorded head never
    imports the engine (nor pandas)."""
    script = (
        "import runpy, sys, types\n"
        f"conf = runpy.run_path({str(GUNICORN_CONF)!r})\n"
        "conf['on_exit'](types.SimpleNamespace(log=None))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('engine', 'pandas')))\n"
    )
    env = {**os.environ, "SPL_RUNTIME_DIR": str(tmp_path), "SECRET_KEY": "x"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=str(REPO), timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_gunicorn_conf_finds_the_head_where_the_engine_records_it(gunicorn_conf: Any) -> None:
    from engine.execution import cluster, config

    conf = gunicorn_conf()
    assert conf._DEFAULT_RUNTIME_DIR == config.DEFAULT_RUNTIME_DIR
    recorded = cluster._head_file(config.RayConfig(runtime_dir=Path("/run/x")))
    assert recorded == Path("/run/x") / conf._HEAD_FILE


def test_on_exit_without_ray_support_is_quiet(
    gunicorn_conf: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "cluster.json").write_text("{}")
    monkeypatch.setenv("SPL_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setitem(sys.modules, "engine.execution.cluster", None)  # import now raises ImportError
    assert gunicorn_conf().on_exit(types.SimpleNamespace(log=None)) is None


def test_worker_exit_of_a_worker_that_failed_to_boot_is_quiet(gunicorn_conf: Any) -> None:
    # A worker whose app refused the settings (DEBUG=1 under gunicorn) has no ``wsgi``: its
    # one-sentence refusal was followed by "could not stop the compute processes:
    # 'ThreadWorker' object has no attribute 'wsgi'" (breaker pass 11, F6).
    warnings: list[str] = []
    log = types.SimpleNamespace(warning=lambda message, *args: warnings.append(message % args))
    gunicorn_conf().worker_exit(types.SimpleNamespace(log=log), types.SimpleNamespace())
    assert warnings == []


# ----------------------------------------------------------------- systemd units


def _unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """section -> key -> values (systemd allows repeated keys, which configparser does not)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        assert current is not None, f"{path.name}: {line} outside a section"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


UNITS = ("spl-env.service", "spl-ray.service", "spl-app.service")


@pytest.mark.parametrize("name", UNITS)
def test_unit_has_the_required_keys(name: str) -> None:
    unit = _unit(SYSTEMD / name)
    assert unit["Unit"]["Description"][0]
    assert "network-online.target" in " ".join(unit["Unit"]["After"])
    assert "network-online.target" in " ".join(unit["Unit"]["Wants"])
    (exec_start,) = unit["Service"]["ExecStart"]
    script = Path(exec_start.split()[0].replace(APP_DIR_ON_AMI, str(REPO)))
    assert script.is_file() and os.access(script, os.X_OK), exec_start
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


@pytest.mark.parametrize("name", ["spl-ray.service", "spl-app.service"])
def test_long_running_units(name: str) -> None:
    unit = _unit(SYSTEMD / name)
    service = unit["Service"]
    assert service["User"] == ["spl"]
    assert service["Restart"] == ["on-failure"]
    assert service["EnvironmentFile"] == ["/etc/spl/spl.env"]
    assert "spl-env.service" in " ".join(unit["Unit"]["After"]) and unit["Unit"]["Requires"] == [
        "spl-env.service"
    ]


def test_app_starts_after_the_local_ray_node() -> None:
    unit = _unit(SYSTEMD / "spl-app.service")
    assert "spl-ray.service" in " ".join(unit["Unit"]["After"])
    assert "spl-ray.service" in " ".join(unit["Unit"]["Wants"])
    assert unit["Service"]["ExecStart"] == [f"{APP_DIR_ON_AMI}/deploy/bin/app.sh"]
    assert _unit(SYSTEMD / "spl-ray.service")["Service"]["ExecStart"] == [
        f"{APP_DIR_ON_AMI}/deploy/bin/ray-node.sh"
    ]


def test_env_unit_is_a_oneshot_before_the_others() -> None:
    unit = _unit(SYSTEMD / "spl-env.service")
    assert unit["Service"]["Type"] == ["oneshot"] and unit["Service"]["RemainAfterExit"] == ["yes"]
    assert set(" ".join(unit["Unit"]["Before"]).split()) >= {"spl-ray.service", "spl-app.service"}


def test_units_pass_systemd_analyze(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    for name in UNITS:
        text = (SYSTEMD / name).read_text().replace(APP_DIR_ON_AMI, str(REPO))
        (tmp_path / name).write_text(text)
    done = subprocess.run(
        [analyze, "verify", "--man=no", *(str(tmp_path / n) for n in UNITS)],
        capture_output=True,
        text=True,
        timeout=timing.limit(120),
        cwd=tmp_path,
    )
    complaints = [line for line in (done.stdout + done.stderr).splitlines() if any(n in line for n in UNITS)]
    assert not complaints, complaints


# ----------------------------------------------------------------- Packer


def _hcl_without_comments(path: Path) -> str:
    return re.sub(r"(?m)^\s*#.*$|\s#[^\"\n]*$", "", path.read_text())


def test_plugins_file_holds_only_the_required_plugins_block() -> None:
    text = _hcl_without_comments(PACKER / "plugins.pkr.hcl").strip()
    assert text.startswith("packer {") and text.endswith("}")
    assert text.count("{") == text.count("}")
    depth, top_level_blocks = 0, 0
    for char in text:
        if char == "{":
            top_level_blocks += depth == 0
            depth += 1
        elif char == "}":
            depth -= 1
    assert top_level_blocks == 1, "plugins.pkr.hcl must contain the packer block alone"
    amazon = re.search(r"required_plugins\s*\{\s*amazon\s*=\s*\{(?P<body>[^}]*)\}", text)
    assert amazon, "required_plugins { amazon = { ... } } is missing"
    assert re.search(r'source\s*=\s*"github\.com/hashicorp/amazon"', amazon["body"])
    assert re.search(r'version\s*=\s*"[~>=<]+\s*\d+\.\d+', amazon["body"])


def test_template_structure() -> None:
    text = _hcl_without_comments(PACKER / "spl.pkr.hcl")
    assert "required_plugins" not in text, "keep plugin requirements in plugins.pkr.hcl only"
    for variable in ("region", "instance_type", "version"):
        assert re.search(rf'variable\s+"{variable}"\s*\{{', text), variable
    assert 'source "amazon-ebs"' in text and "source_ami_filter" in text
    assert '"099720108477"' in text, "the base image must be Canonical's Ubuntu"
    assert re.search(r"ubuntu/images/.*\$\{var\.ubuntu_release\}", text)
    scripts = re.findall(r'"\$\{path\.root\}/(scripts/[^"]+\.sh)"', text)
    assert scripts and all((PACKER / s).is_file() for s in scripts)
    installed = (PACKER / "scripts" / "30-systemd.sh").read_text()
    for unit in UNITS:
        assert unit in installed and (SYSTEMD / unit).is_file()
    assert "rm -f /etc/spl/spl.env" in (PACKER / "scripts" / "90-cleanup.sh").read_text()


def test_packer_validate(tmp_path: Path) -> None:
    packer = shutil.which("packer")
    if packer is None:
        pytest.skip("packer is not installed (bash .ci/install-system.sh installs it)")
    version = subprocess.run(
        [packer, "version"], capture_output=True, text=True, timeout=timing.limit(60)
    ).stdout
    for args in (["validate", "spl.pkr.hcl"], ["fmt", "-check", "-diff", "."]):
        done = subprocess.run(
            [packer, *args],
            capture_output=True,
            text=True,
            timeout=timing.limit(120),
            cwd=PACKER,
            env={**os.environ, "CHECKPOINT_DISABLE": "1", "PACKER_LOG": "0"},
        )
        output = done.stdout + done.stderr
        if done.returncode != 0 and re.search(r"plugin|Unknown source type|packer init", output, re.I):
            pytest.skip(f"{version.strip()} needs `packer init` (network) for amazon-ebs: {output[:200]}")
        assert done.returncode == 0, f"packer {' '.join(args)}:\n{output}"


# ----------------------------------------------------------------- shell scripts


def _shell_scripts() -> list[Path]:
    found = []
    for path in REPO.rglob("*"):
        if any(
            part in (".git", "__pycache__", "node_modules", ".venv", ".pytest_cache") for part in path.parts
        ):
            continue
        if not path.is_file() or path.suffix in (".py", ".md", ".css", ".csv", ".json", ".yml", ".hcl"):
            continue
        if path.suffix == ".sh":
            found.append(path)
            continue
        with open(path, "rb") as handle:
            first = handle.readline(100)
        if re.match(rb"#!\s*(/usr/bin/env\s+)?(/bin/|/usr/bin/)?(ba|da)?sh\b", first):
            found.append(path)
    return sorted(found)


def test_shellcheck_every_shell_script() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (bash .ci/install-system.sh installs it)")
    scripts = _shell_scripts()
    assert BIN / "ray-node.sh" in scripts and REPO / ".ci" / "run" in scripts
    done = subprocess.run(
        [shellcheck, "--severity=style", *map(str, scripts)],
        capture_output=True,
        text=True,
        timeout=timing.limit(300),
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_deploy_scripts_are_executable() -> None:
    for path in [*BIN.glob("*.sh"), *(PACKER / "scripts").glob("*.sh")]:
        assert path.stat().st_mode & stat.S_IXUSR, f"{path.name} is not executable"
        assert path.read_text().startswith("#!/usr/bin/env bash\n")
        assert "set -euo pipefail" in path.read_text()


# ----------------------------------------------------------------- no secrets committed


SECRET_PATTERNS = [
    re.compile(r"AKIA[0-9A-Z]{16}"),  # AWS access key id
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"redis://:(?!\$\{|change-me|PASSWORD|\*\*\*)[^@\s'\"]+@"),  # password in a Redis URL
    re.compile(
        r"(?i)\b[A-Z_]*(?:TOKEN|PASSWORD|SECRET)[A-Z_]*\s*[=:]\s*['\"]?(?!change-me|\$|\{|<)[A-Za-z0-9+/_\-]{12,}"
    ),
]


def _tracked_files() -> list[Path]:
    done = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, timeout=timing.limit(60))
    if done.returncode != 0:
        pytest.skip("not a git checkout")
    return [REPO / name for name in done.stdout.decode().split("\0") if name]


def test_no_secrets_committed() -> None:
    tracked = _tracked_files()
    assert REPO / ".env" not in tracked, ".env holds real secrets and must never be committed"
    offenders = []
    for path in tracked:
        relative = path.relative_to(REPO)
        if relative.parts[0] == "tests" or not path.is_file() or path.suffix in (".css", ".png", ".ico"):
            continue
        text = path.read_text(errors="replace")
        offenders += [
            f"{relative}: {m.group(0)[:60]}" for pattern in SECRET_PATTERNS for m in pattern.finditer(text)
        ]
    assert not offenders, offenders


def test_gitignore_excludes_env() -> None:
    assert ".env" in (REPO / ".gitignore").read_text().split()


# ----------------------------------------------------------------- boot-time scripts refuse bad settings


def _run(script: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [str(BIN / script), *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=timing.limit(60),
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SPL_ROLE must be 'head' or 'worker'"),
        ({"SPL_ROLE": "head"}, "RAY_AUTH_MODE must be 'token'"),
        ({"SPL_ROLE": "head", "RAY_AUTH_MODE": "token"}, "RAY_AUTH_TOKEN is empty"),
        (
            {"SPL_ROLE": "head", "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "change-me-ray-token"},
            "placeholder",
        ),
        (
            {"SPL_ROLE": "worker", "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "t0k3n-abc"},
            "RAY_HEAD_ADDRESS or RAY_ADDRESS",
        ),
    ],
)
def test_ray_node_refuses_an_unsafe_or_incomplete_setup(env: dict[str, str], message: str) -> None:
    done = _run("ray-node.sh", {**env, "RAY_BIN": "/bin/false"})
    assert done.returncode == 64
    assert message in done.stderr


def test_app_refuses_placeholder_secrets() -> None:
    done = _run("app.sh", {"SECRET_KEY": "change-me-secret-key", "PYTHON": "/bin/false"})
    assert done.returncode == 64 and "SECRET_KEY" in done.stderr
    done = _run(
        "app.sh",
        {
            "SECRET_KEY": "k",
            "RAY_ADDRESS": "h:1",
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": "change-me-ray-token",
            "PYTHON": "/bin/false",
        },
    )
    assert done.returncode == 64 and "RAY_AUTH_TOKEN" in done.stderr


def test_wait_for_gives_up_on_a_closed_port() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        done = _run("wait-for.sh", {}, f"127.0.0.1:{port}", "1")
    assert done.returncode == 1 and "did not accept connections within 1s" in done.stderr


def test_wait_for_sees_an_open_port() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        done = _run("wait-for.sh", {}, f"127.0.0.1:{sock.getsockname()[1]}", "5")
    assert done.returncode == 0


def _user_data(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    data = tmp_path / "user-data"
    data.write_text(text)
    return _run(
        "spl-env-from-user-data.sh",
        {
            "SPL_USER_DATA_FILE": str(data),
            "SPL_ENV_FILE": str(tmp_path / "etc" / "spl.env"),
            "SPL_ENV_GROUP": "no-such-group-spl-test",
        },
    )


def test_user_data_becomes_the_env_file(tmp_path: Path) -> None:
    done = _user_data(
        tmp_path,
        "# worker\nSPL_ROLE=worker\r\nRAY_ADDRESS=10.0.1.10:6379\nRAY_AUTH_TOKEN=abc123\n"
        "SECRET_KEY=k\nCACHE_REDIS_URL=redis://:pw@10.0.1.20:6379/0\nNOT_OURS=1\n\n",
    )
    assert done.returncode == 0, done.stderr
    written = (tmp_path / "etc" / "spl.env").read_text().splitlines()
    assert written[1:] == [
        "CACHE_REDIS_URL=redis://:pw@10.0.1.20:6379/0",
        "RAY_ADDRESS=10.0.1.10:6379",
        "RAY_AUTH_MODE=token",
        "RAY_AUTH_TOKEN=abc123",
        "SECRET_KEY=k",
        "SPL_ROLE=worker",
    ]
    assert "ignoring unknown setting NOT_OURS" in done.stderr
    assert stat.S_IMODE((tmp_path / "etc" / "spl.env").stat().st_mode) & 0o077 == 0, (
        "secrets must not be world-readable"
    )


def test_user_data_of_a_head_defaults_its_address(tmp_path: Path) -> None:
    done = _user_data(tmp_path, "SPL_ROLE=head\nRAY_AUTH_TOKEN=abc123\nSPL_APP_ENABLED=0\n")
    assert done.returncode == 0, done.stderr
    assert "RAY_ADDRESS=127.0.0.1:6379" in (tmp_path / "etc" / "spl.env").read_text().splitlines()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("RAY_AUTH_TOKEN=abc\n", "SPL_ROLE must be head or worker"),
        ("SPL_ROLE=worker\nRAY_AUTH_TOKEN=abc\nSECRET_KEY=k\n", "a worker needs RAY_ADDRESS"),
        ("SPL_ROLE=head\nSECRET_KEY=k\n", "RAY_AUTH_TOKEN is required"),
        ("SPL_ROLE=head\nRAY_AUTH_TOKEN=change-me-ray-token\nSECRET_KEY=k\n", "placeholder"),
        ("SPL_ROLE=head\nRAY_AUTH_TOKEN=abc\n", "SECRET_KEY is required"),
        ("SPL_ROLE=head\nthis is not a setting\n", "not KEY=value"),
    ],
)
def test_bad_user_data_stops_the_boot_step(tmp_path: Path, text: str, message: str) -> None:
    done = _user_data(tmp_path, text)
    assert done.returncode == 1 and message in done.stderr
    assert not (tmp_path / "etc" / "spl.env").exists()
