"""Public survey answers under load: Voix and django-survey-and-report, each under gunicorn with
2 workers on PostgreSQL, answered by a load generator in a second process on loopback.

The questionnaire (both sides, same wordings): the State's standard questions — JDMA
satisfaction (3 levels, required), clarity (5 levels), where help was sought (multiple choice,
9 channels, « no help needed » alone), help reached (yes / no), help efficiency (5 levels) —
then the overall CSAT question (5 levels, required) and a free-text comment.

- Voix: a fresh database (``bench_surveys``), an organisation, a site, the standard
  questionnaire made by ``voix.surveys.services.create_survey``, opened, and its reception link
  (``ensure_link``). The application runs as in production (DEBUG off, ALLOWED_HOSTS, a
  50-character SECRET_KEY, the cached template loader, persistent database connections) with
  the relaxations of a load test from one address, through the environment:
  ``PUBLIC_FORM_MIN_SECONDS=0`` (the generator answers in milliseconds) and
  ``PUBLIC_RATE_LIMIT`` / ``SURVEY_RATE_LIMIT`` raised. The honeypot, the signed time and the
  one-use form number (nonce) stay on. Static files come from the plain storage (a
  throw-away settings module: no ``collectstatic``; the generator asks for no static file).
- django-survey-and-report (PyPI, latest, in its own virtualenv under
  benchmarks/peers/django_survey/.venv, created by this script with ``uv`` when missing): a
  ``startproject``-like project (peer_settings.py: DEBUG off, the same middleware, persistent
  connections), its own database (``bench_surveys_peer``) on the same server, a published,
  anonymous, one-page questionnaire with the same questions (setup_peer.py).

The generator (this file with ``--load``, its own process, standard library only): CLIENTS
(16) threads, each with its own connection (kept alive when the server allows it); WARMUP_S
(3) seconds, then DURATION_S (15) seconds measured. Two modes (MODES, both by default), one
after the other on the same server:

- ``visit`` (the figure the target is judged on, line ``surveys.answers.<side>``): new
  visitors one after the other, each GETs the questionnaire (its hidden fields: nonce and
  time, or the CSRF token and cookie for the peer), picks answers at random (seeded) and
  POSTs them;
- ``post`` (line ``….post_only``): POSTs only — Voix's forms are made beforehand with its own
  functions (``public.new_nonce``, ``antibot.stamp``, FORMS of them), the peer's clients reuse
  the CSRF token of one GET each — what the answer endpoint alone can take.

A 302 to the thanks page is an answer; anything else is an error. Printed per side and mode:
answers per second, p50 / p95 / p99 of the POST (and the p99 of the GET), errors, and the CPU
spent per answer by the gunicorn processes (app_cpu_ms), the PostgreSQL backends (db_cpu_ms)
and the generator (gen_cpu_ms), read from /proc: ``cpu_bound_per_s`` is what the machine's
cores could carry if CPU were the only limit — the figure that stays meaningful on a busy
machine. Then the database is counted: rows must equal the answers the generator saw
accepted, with no duplicate (else the script fails). ``pg_commit_ms`` is the median time of a
one-row committed INSERT (the disk's flush time, which a sync worker waits for on each POST).

Voix's targets: ≥ 300 answers/s, p99 of the POST < 150 ms, zero errors.

    uv run python benchmarks/surveys_answers.py
    PEER=0 MODES=visit WORKER_CLASS=sync uv run python benchmarks/surveys_answers.py
    CLIENTS=8 DURATION_S=10 uv run python benchmarks/surveys_answers.py

WORKER_CLASS (gthread) and THREADS (4, gthread only) choose gunicorn's worker for both
sides; WORKERS (2). gthread is the default because it measured best: a POST waits for the
disk to flush its commit (pg_commit_ms), and a sync worker serves nobody meanwhile, while a
gthread worker's other threads go on (and connections are kept alive); on this machine the
POST-only rate was about twice the sync workers'. VOIX=0 or PEER=0 leaves a side out.
BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres) names the server;
the databases are created and dropped by the script. When the server cannot be reached the
bench says so and exits without a figure.
"""

import html
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_DB = os.environ.get("BENCH_DB", "bench_surveys")
PEER_DB = os.environ.get("PEER_DB", "bench_surveys_peer")
PEER_DIR = ROOT / "benchmarks" / "peers" / "django_survey"
PEER_VENV = PEER_DIR / ".venv"

CLIENTS = int(os.environ.get("CLIENTS", "16"))
WARMUP_S = float(os.environ.get("WARMUP_S", "3"))
DURATION_S = float(os.environ.get("DURATION_S", "15"))
WORKERS = int(os.environ.get("WORKERS", "2"))
WORKER_CLASS = os.environ.get("WORKER_CLASS", "gthread")
THREADS = int(os.environ.get("THREADS", "4"))
MODES = [m for m in os.environ.get("MODES", "visit,post").split(",") if m]
FORMS = int(os.environ.get("FORMS", "20000"))  # ready forms for Voix's « post » mode
SECRET_KEY = "bench-not-secret-" + "k" * 50
TARGET_PER_S = 300
COMMIT_MS = float("nan")  # measured at start: the disk's flush time bounds the commits
TARGET_P99_MS = 150

VERBATIMS = [
    "",
    "",
    "Accueil très agréable, merci à la conseillère.",
    "Trop d'attente au téléphone avant d'avoir quelqu'un.",
    "Le formulaire en ligne n'était pas clair sur les pièces à fournir.",
]


def percentile(sorted_values: list[float], share: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(share * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


# ----- the load generator (its own process: ``surveys_answers.py --load '<json>'``) ----------

HIDDEN = re.compile(r"<input\b[^>]*\btype=\"hidden\"[^>]*>", re.IGNORECASE)
ATTRIBUTE = re.compile(r"\b(name|value)=\"([^\"]*)\"")


def hidden_fields(page: str) -> list[tuple[str, str]]:
    """The hidden inputs of a page (CSRF token, timestamp, nonce…), as (name, value)."""
    fields = []
    for tag in HIDDEN.findall(page):
        attributes = dict(ATTRIBUTE.findall(tag))
        if "name" in attributes:
            fields.append((attributes["name"], html.unescape(attributes.get("value", ""))))
    return fields


def pick_answers(fields: list[dict], rng: random.Random) -> list[tuple[str, str]]:
    """What a person answers: every choice question (sometimes a skipped optional one), one
    to three channels for the multiple choice (« no help needed » alone), a comment now and
    then."""
    answers = []
    for field in fields:
        if field["kind"] == "text":
            text = rng.choice(VERBATIMS)
            if text:
                answers.append((field["name"], text))
        elif not field.get("required") and rng.random() < 0.1:
            continue
        elif field["kind"] == "multiple":
            exclusive = field.get("exclusive", [])
            if exclusive and rng.random() < 0.2:
                answers.append((field["name"], exclusive[0]))
                continue
            others = [v for v in field["values"] if v not in exclusive]
            for value in rng.sample(others, rng.randint(1, 3)):
                answers.append((field["name"], value))
        else:
            answers.append((field["name"], rng.choice(field["values"])))
    return answers


def cookies_of(response) -> str:
    jar = []
    for header, value in response.getheaders():
        if header.lower() == "set-cookie":
            jar.append(value.split(";", 1)[0])
    return "; ".join(jar)


def fetch_form(connection, path: str) -> tuple[list, str, float]:
    """GET the questionnaire: its hidden fields, the cookies it set, the milliseconds taken."""
    t0 = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    page = response.read().decode()
    elapsed = (time.perf_counter() - t0) * 1000
    if response.status != 200:
        raise RuntimeError(f"GET {response.status}")
    return hidden_fields(page), cookies_of(response), elapsed


def visitor_stream(n: int, plan: dict, clock: dict, forms, out: list) -> None:
    """One client, until the end of the measure. Mode « visit »: new visitors one after the
    other, each GETs the questionnaire then POSTs it (no cookie kept). Mode « post »: POSTs
    only, each with a form handed out by the script (*forms*, one-use numbers made with the
    application's own functions) or, when there is none, the hidden fields and cookies of
    one GET made by this client at the start (a CSRF token may be used again)."""
    import http.client

    rng = random.Random(n)
    connection = http.client.HTTPConnection("127.0.0.1", plan["port"], timeout=30)
    path, done, visit = plan["path"], plan["done"], plan["mode"] == "visit"
    answered = exhausted = 0
    post_ms, get_ms, errors, samples = [], [], 0, []
    reused = None
    while True:
        now = time.perf_counter()
        if now >= clock["end"]:
            break
        measured = now >= clock["start"]
        try:
            if visit:
                hidden, cookie, got_ms = fetch_form(connection, path)
            elif forms is not None:
                hidden, cookie, got_ms = next(forms, None), "", None
                if hidden is None:
                    exhausted = 1
                    break
            else:
                reused = reused or fetch_form(connection, path)
                hidden, cookie, got_ms = reused[0], reused[1], None
            body = urlencode(hidden + pick_answers(plan["fields"], rng))
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            if cookie:
                headers["Cookie"] = cookie
            t0 = time.perf_counter()
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read()
            t1 = time.perf_counter()
            location = response.getheader("Location") or ""
            if response.status != 302 or done not in location:
                raise RuntimeError(f"POST {response.status} {location} {text[:300]!r}")
            answered += 1
            if measured and t1 < clock["end"]:
                post_ms.append((t1 - t0) * 1000)
                if got_ms is not None:
                    get_ms.append(got_ms)
        except Exception as error:  # noqa: BLE001 — counted, the first ones shown
            errors += 1
            if len(samples) < 3:
                samples.append(f"{type(error).__name__}: {error}"[:400])
            connection.close()
    connection.close()
    out.append(
        {
            "answered": answered,
            "post_ms": post_ms,
            "get_ms": get_ms,
            "errors": errors,
            "samples": samples,
            "exhausted": exhausted,
        }
    )


def generate_load(plan: dict) -> dict:
    forms = None
    if plan.get("forms_file"):
        ready = json.loads(Path(plan["forms_file"]).read_text())
        forms = iter([[tuple(pair) for pair in form] for form in ready])
    begin = time.perf_counter() + 0.05
    clock = {
        "start": begin + plan["warmup_s"],
        "end": begin + plan["warmup_s"] + plan["duration_s"],
    }
    out: list[dict] = []
    threads = [
        threading.Thread(target=visitor_stream, args=(n, plan, clock, forms, out))
        for n in range(plan["clients"])
    ]
    cpu0 = time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    post = sorted(ms for o in out for ms in o["post_ms"])
    get = sorted(ms for o in out for ms in o["get_ms"])
    return {
        "answered": sum(o["answered"] for o in out),
        "measured": len(post),
        "per_s": len(post) / plan["duration_s"],
        "p50_ms": statistics.median(post) if post else float("nan"),
        "p95_ms": percentile(post, 0.95),
        "p99_ms": percentile(post, 0.99),
        "max_ms": post[-1] if post else float("nan"),
        "get_p99_ms": percentile(get, 0.99),
        "errors": sum(o["errors"] for o in out),
        # the handed-out forms ran out before the end (the figures are then too low)
        "exhausted": sum(o["exhausted"] for o in out),
        "samples": [s for o in out for s in o["samples"]][:5],
        # the generator's own CPU share (it shares the machine with the servers)
        "generator_cpu_s": time.process_time() - cpu0,
    }


# ----- servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_options() -> list[str]:
    options = ["--workers", str(WORKERS)]
    options += ["--worker-class", WORKER_CLASS, "--log-level", "warning"]
    if WORKER_CLASS == "gthread":
        options += ["--threads", str(THREADS)]
    return options


def start_server(command: list[str], env: dict, cwd: Path, port: int, probe: str):
    """Start gunicorn and wait until *probe* answers 200."""
    import http.client

    command = [*command, "--bind", f"127.0.0.1:{port}"]
    server = subprocess.Popen(command, env=env, cwd=cwd, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn s'est arrêté au démarrage ({' '.join(command)})")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", probe)
            status = connection.getresponse().status
            connection.close()
            if status == 200:
                return server
            raise SystemExit(f"{probe} répond {status} au lieu de 200")
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    raise SystemExit("gunicorn n'a pas répondu en 60 secondes")


def stop_server(server) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def run_load(plan: dict) -> dict:
    """The generator in a second process (Voix's python, standard library only)."""
    process = subprocess.run(
        [sys.executable, __file__, "--load", json.dumps(plan)],
        capture_output=True,
        text=True,
        check=False,
    )
    if process.returncode != 0:
        print(process.stdout, process.stderr, file=sys.stderr)
        raise SystemExit("le générateur de charge a échoué")
    return json.loads(process.stdout.strip().splitlines()[-1])


def load_plan(port: int, target: dict) -> dict:
    return {
        "port": port,
        "path": target["path"],
        "done": target["done"],
        "fields": target["fields"],
        "clients": CLIENTS,
        "warmup_s": WARMUP_S,
        "duration_s": DURATION_S,
    }


# ----- CPU accounting (Linux /proc; the figures are left out elsewhere) ----------------------

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of one process, None when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def cpu_snapshot(admin, server, database: str) -> dict:
    """CPU seconds so far of the gunicorn master and workers, and of the PostgreSQL backends
    serving *database* (same machine only)."""
    pids = {("app", pid) for pid in [server.pid, *children_of(server.pid)]}
    rows = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s", [database]
    ).fetchall()
    pids |= {("db", pid) for (pid,) in rows}
    return {key: cpu for key in pids if (cpu := cpu_seconds(key[1])) is not None}


def cpu_used(before: dict, after: dict, part: str) -> float:
    return sum(after[k] - before.get(k, 0.0) for k in after if k[0] == part)


def serve_and_load(admin, command, env, cwd, target, database: str, forms=None) -> dict:
    """Start the server; run the generator against it once per mode (MODES); stop it. The
    load figures of each mode, with the CPU the server and its database backends spent.
    *forms*: for the « post » mode, a function making N ready forms (hidden fields)."""
    port = free_port()
    server = start_server(command, env, cwd, port, target["path"])
    results = {}
    try:
        for mode in MODES:
            plan = {**load_plan(port, target), "mode": mode}
            if mode == "post" and forms is not None:
                handle, name = tempfile.mkstemp(prefix="bench-forms-", suffix=".json")
                with os.fdopen(handle, "w") as file:
                    json.dump(forms(FORMS), file)
                plan["forms_file"] = name
            before = cpu_snapshot(admin, server, database)
            try:
                result = run_load(plan)
            finally:
                if "forms_file" in plan:
                    os.unlink(plan["forms_file"])
            after = cpu_snapshot(admin, server, database)
            answered = max(result["answered"], 1)
            app, db = cpu_used(before, after, "app"), cpu_used(before, after, "db")
            result["app_cpu_ms"] = app * 1000 / answered
            result["db_cpu_ms"] = db * 1000 / answered
            result["gen_cpu_ms"] = result["generator_cpu_s"] * 1000 / answered
            total = result["app_cpu_ms"] + result["db_cpu_ms"] + result["gen_cpu_ms"]
            # What the cores could carry if CPU were the only limit (no wait for the disk).
            cores = os.cpu_count() or 1
            result["cpu_bound_per_s"] = cores * 1000 / total if app else float("nan")
            results[mode] = result
    finally:
        stop_server(server)
    return results


def commit_latency_ms(url: str) -> float:
    """Median time of a one-row INSERT committed on its own (the disk's flush time)."""
    import psycopg

    timings = []
    with psycopg.connect(url, autocommit=True) as connection:
        # a logged table (a temporary one writes no WAL, so flushes nothing)
        connection.execute("CREATE TABLE IF NOT EXISTS bench_commit_probe (v text)")
        try:
            for _ in range(40):
                t0 = time.perf_counter()
                connection.execute("INSERT INTO bench_commit_probe (v) VALUES ('x')")
                timings.append((time.perf_counter() - t0) * 1000)
        finally:
            connection.execute("DROP TABLE bench_commit_probe")
    return statistics.median(timings)


# ----- PostgreSQL ----------------------------------------------------------------------------


def admin_connection():
    import psycopg

    try:
        return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        print(f"PostgreSQL injoignable ({error}) : mesure sautée.", file=sys.stderr)
        return None


def fresh_database(admin, name: str) -> str:
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {name}")
    return f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"


def count(database_url: str, sql: str) -> tuple:
    import psycopg

    with psycopg.connect(database_url) as connection:
        return connection.execute(sql).fetchone()


# ----- Voix ----------------------------------------------------------------------------------

BENCH_SETTINGS = '''
"""Voix's settings for benchmarks/surveys_answers.py (written by the script, never kept):
production settings, but static files from the plain storage (no collectstatic run)."""
from voix.settings import *  # noqa: F403

STORAGES = {**STORAGES, "staticfiles": {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
'''


def build_voix(database_url: str) -> dict:
    """Migrate, then the organisation, the site, the open standard questionnaire and its
    reception link, through Voix's services. Returns what the generator needs."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DEBUG", "true")
    os.environ["DJANGO_SETTINGS_MODULE"] = "voix.settings"
    # the server's key: the forms handed out in the « post » mode are signed with it
    os.environ["SECRET_KEY"] = SECRET_KEY
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.urls import reverse

    from voix.core import services as core
    from voix.surveys import services
    from voix.surveys.models import LinkChannel, SurveyStatus

    call_command("migrate", verbosity=0, interactive=False)
    caf = core.create_organisation(
        None, name="Caf de la Mayenne", slug="caf-53", kind="organisme", departement="53"
    )
    site = core.create_site(
        None,
        caf,
        name="Laval",
        slug="laval",
        kind="siege",
        address="1 place de la Poste",
        postcode="53000",
        commune="Laval",
        insee_code="53130",
    )
    survey = services.create_survey(None, caf, title="Votre avis sur votre démarche")
    if survey.status != SurveyStatus.OPEN:
        services.set_survey_status(None, survey, SurveyStatus.OPEN)
    link = services.ensure_link(None, survey, site=site, channel=LinkChannel.RECEPTION)
    fields = voix_fields(survey)
    connections.close_all()
    return {
        "survey_id": survey.pk,
        "token": link.token,
        "path": reverse("surveys:answer", args=[link.token]),
        "done": "/merci/",
        "fields": fields,
        "questions": len(fields),
    }


def voix_fields(survey) -> list[dict]:
    """The form fields of the questionnaire (one per question, named by its code) and the
    values a person may send."""
    from voix.surveys import scales

    fields = []
    for question in survey.questions.order_by("position"):
        kind = (
            "text"
            if scales.is_text(question.kind)
            else "multiple"
            if scales.is_multiple(question.kind)
            else "single"
        )
        values = [option.value for option in scales.options_for(question)]
        fields.append(
            {
                "name": question.code,
                "kind": kind,
                "values": values,
                "exclusive": [scales.NO_HELP] if scales.NO_HELP in values else [],
                "required": question.required,
            }
        )
    return fields


def voix_forms(token: str):
    """N ready forms for the « post » mode, made as the page makes them: a one-use number
    (``public.new_nonce``) and the signed time (``antibot.stamp``); the honeypot empty."""
    from voix.core import antibot
    from voix.surveys.views import public

    def make(n: int) -> list:
        stamp = antibot.stamp()
        return [
            [
                (public.NONCE_FIELD, public.new_nonce(token)),
                (antibot.STAMP_FIELD, stamp),
                (antibot.HONEYPOT_FIELD, ""),
            ]
            for _ in range(n)
        ]

    return make


def measure_voix(admin) -> dict:
    url = fresh_database(admin, BENCH_DB)
    target = build_voix(url)
    settings_dir = Path(tempfile.mkdtemp(prefix="voix-bench-"))
    (settings_dir / "voix_bench_settings.py").write_text(textwrap.dedent(BENCH_SETTINGS))
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "voix_bench_settings",
        "PYTHONPATH": os.pathsep.join([str(settings_dir), str(ROOT)]),
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": str(settings_dir),  # no collectstatic: an empty folder
        # a load test from one address: no « too fast » check, no per-address limit
        "PUBLIC_FORM_MIN_SECONDS": "0",
        "PUBLIC_RATE_LIMIT": "1000000000",
        "SURVEY_RATE_LIMIT": "1000000000",
    }
    command = [sys.executable, "-m", "gunicorn", "voix.wsgi:application", *gunicorn_options()]
    try:
        results = serve_and_load(
            admin, command, env, ROOT, target, BENCH_DB, forms=voix_forms(target["token"])
        )
    finally:
        shutil.rmtree(settings_dir, ignore_errors=True)
    rows, distinct = count(
        url,
        f"SELECT count(*), count(DISTINCT nonce) FROM surveys_response "
        f"WHERE survey_id = {target['survey_id']}",
    )
    return {"modes": results, "rows": rows, "duplicates": rows - distinct, **target}


# ----- django-survey-and-report (peer) -------------------------------------------------------


def ensure_peer_venv() -> Path:
    python = PEER_VENV / "bin" / "python"
    if not (PEER_VENV / "bin" / "gunicorn").exists():
        print("# création du virtualenv de django-survey-and-report…", file=sys.stderr)
        subprocess.run(["uv", "venv", "--quiet", "--python", "3.11", str(PEER_VENV)], check=True)
        subprocess.run(
            [
                "uv",
                "pip",
                "install",
                "--quiet",
                "--python",
                str(python),
                "-r",
                str(PEER_DIR / "requirements.txt"),
            ],
            check=True,
        )
    return python


def measure_peer(admin) -> dict:
    python = ensure_peer_venv()
    url = fresh_database(admin, PEER_DB)
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")},
        "PEER_DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "peer_settings",
        "PYTHONWARNINGS": "ignore",
    }
    setup = subprocess.run(
        [str(python), "setup_peer.py"], cwd=PEER_DIR, env=env, capture_output=True, text=True
    )
    if setup.returncode != 0:
        print(setup.stdout, setup.stderr, file=sys.stderr)
        raise SystemExit("la préparation de django-survey-and-report a échoué")
    target = json.loads(setup.stdout.strip().splitlines()[-1])
    command = [str(PEER_VENV / "bin" / "gunicorn"), "peer_wsgi:application", *gunicorn_options()]
    results = serve_and_load(admin, command, env, PEER_DIR, target, PEER_DB)
    rows, distinct, answers = count(
        url,
        "SELECT count(*), count(DISTINCT interview_uuid), "
        "(SELECT count(*) FROM survey_answer) FROM survey_response",
    )
    return {
        "modes": results,
        "rows": rows,
        "duplicates": rows - distinct,
        "answer_rows": answers,
        **target,
        "questions": len(target["fields"]),
    }


# ----- main ----------------------------------------------------------------------------------

NAMES = {"visit": "", "post": ".post_only"}


def line(name: str, mode: str, r: dict, side: dict, extra: str = "") -> str:
    gthread = f" threads={THREADS}" if WORKER_CLASS == "gthread" else ""
    get_p99 = f" get_p99_ms={r['get_p99_ms']:.1f}" if mode == "visit" else ""
    return (
        f"BENCH {name}{NAMES[mode]} workers={WORKERS} worker_class={WORKER_CLASS}{gthread} "
        f"clients={CLIENTS} questions={side['questions']} duration_s={DURATION_S:g} "
        f"answers={r['measured']} per_s={r['per_s']:.1f} p50_ms={r['p50_ms']:.1f} "
        f"p95_ms={r['p95_ms']:.1f} p99_ms={r['p99_ms']:.1f}{get_p99} "
        f"errors={r['errors']} app_cpu_ms={r['app_cpu_ms']:.2f} db_cpu_ms={r['db_cpu_ms']:.2f} "
        f"gen_cpu_ms={r['gen_cpu_ms']:.2f} cpu_bound_per_s={r['cpu_bound_per_s']:.0f}{extra} "
        f"load1={os.getloadavg()[0]:.1f}"
    )


def check_rows(label: str, side: dict, failed: list) -> None:
    """Every accepted answer is one row, none twice; printed once per side."""
    accepted = sum(r["answered"] for r in side["modes"].values())
    exhausted = sum(r["exhausted"] for r in side["modes"].values())
    print(
        f"BENCH {label}.rows accepted={accepted} rows={side['rows']} "
        f"duplicates={side['duplicates']}"
        + (f" answer_rows={side['answer_rows']}" if "answer_rows" in side else "")
        + f" pg_commit_ms={COMMIT_MS:.1f}",
        flush=True,
    )
    if side["rows"] != accepted or side["duplicates"]:
        failed.append(f"{label} : lignes enregistrées ≠ réponses acceptées")
    if exhausted:
        failed.append(f"{label} : plus de formulaires prêts avant la fin (FORMS trop petit)")
    for mode, result in side["modes"].items():
        for sample in result["samples"]:
            print(f"# {label} {mode}: {sample}", file=sys.stderr)


def main():
    admin = admin_connection()
    if admin is None:
        return
    global COMMIT_MS
    failed, voix = [], None
    try:
        COMMIT_MS = commit_latency_ms(fresh_database(admin, BENCH_DB))
        if os.environ.get("VOIX", "1") != "0":
            voix = measure_voix(admin)
            for mode, r in voix["modes"].items():
                ok = r["per_s"] >= TARGET_PER_S and r["p99_ms"] < TARGET_P99_MS
                ok = ok and r["errors"] == 0
                verdict = f" target_per_s={TARGET_PER_S} target_p99_ms={TARGET_P99_MS} "
                verdict += "ok" if ok else "MISSED"
                print(line("surveys.answers.voix", mode, r, voix, verdict), flush=True)
            check_rows("surveys.answers.voix", voix, failed)
        if os.environ.get("PEER", "1") != "0":
            peer = measure_peer(admin)
            for mode, r in peer["modes"].items():
                extra = f" version={peer['version']}"
                if voix and mode in voix["modes"]:
                    ratio = voix["modes"][mode]["per_s"] / max(r["per_s"], 0.001)
                    extra += f" voix_vs_peer={ratio:.1f}"
                name = "surveys.answers.django_survey_and_report"
                print(line(name, mode, r, peer, extra), flush=True)
            check_rows("surveys.answers.django_survey_and_report", peer, failed)
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        admin.execute(f"DROP DATABASE IF EXISTS {PEER_DB} WITH (FORCE)")
        admin.close()
    if failed:
        raise SystemExit("ERREUR : " + " ; ".join(failed))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--load"]:
        print(json.dumps(generate_load(json.loads(sys.argv[2]))))
    else:
        main()
