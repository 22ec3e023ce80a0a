"""`make dev`: the whole stack on one machine, no Docker, no cloud account.

An S3 and SQS emulator (moto server, in a child process), the database (SQLite by default, or
DATABASE_URL), migrations, the queue pumps (bucket events and the scheduled job; stored runs to
the processor), the API under `chalice local`, and the web page on an origin of its own
(local/web.py, INLET_WEB_PORT): never the emulator's, which serves uploads. Run events go to
the webhooks of INLET_EVENT_WEBHOOKS, if any. Prints the URLs; Ctrl-C stops everything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import IO

from chalicelib.config import Settings
from chalicelib.migrate import upgrade_url
from chalicelib.storage import make_s3_client
from local.init import init_resources
from local.processes import HOST, ROOT, moto_server, stop_group, wait_until_ok
from local.pump import SCHEDULE_EVERY, Pump, processing_pump
from local.resources import EventQueue, make_sqs_client
from local.settings import LocalSettings
from local.web import page_status, serving, site_for

HOSTS = (HOST, "localhost")


def dev_environment(environ: dict[str, str]) -> dict[str, str]:
    """Embedded defaults for whatever the environment leaves unset."""
    defaults = {
        # The embedded emulator takes any credentials; boto3 wants some.
        "AWS_ACCESS_KEY_ID": "inlet-dev",
        "AWS_SECRET_ACCESS_KEY": "inlet-dev",
        "AWS_DEFAULT_REGION": "us-east-1",
        "DATABASE_URL": f"sqlite:///{ROOT / '.inlet' / 'inlet.db'}",
        "INLET_BUCKET": "inlet-uploads",
        "POWERTOOLS_SERVICE_NAME": "inlet",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        # moto reads a whole object for every ranged GET: hash each object in one stream.
        "INLET_HASH_RANGE_SIZE": "0",
        # A whole batch at once: each record then holds one stream's buffer (8 MiB at most).
        "INLET_EVENT_CONCURRENCY": "10",
        # No tokens on a laptop; `INLET_AUTH=required make dev` turns them on.
        "INLET_AUTH": "off",
    }
    env = defaults | {k: v for k, v in environ.items() if v != ""}
    ports = LocalSettings.from_env(env)  # refuses a bad value before anything starts
    env.setdefault("INLET_API_PORT", str(ports.inlet_api_port))
    env.setdefault("INLET_S3_PORT", str(ports.inlet_s3_port))
    env.setdefault("INLET_WEB_PORT", str(ports.inlet_web_port))
    # The page's origins: its own server (local/web.py) and Vite's dev server on 5173. Never the
    # S3 endpoint: the bucket serves uploads, and the page keeps the API token.
    pages = (env["INLET_WEB_PORT"], "5173")
    env.setdefault("INLET_CORS_ORIGINS", ",".join(f"http://{h}:{p}" for p in pages for h in HOSTS))
    return env


@contextmanager
def event_pump(settings: Settings, queue_url: str, processing_url: str) -> Iterator[Pump]:
    """Bucket events and the scheduled job, and stored runs to the processor, through the app's
    own Chalice handlers (as on Lambda). The job runs every 30 s (AWS: every 15 min), so with
    INLET_RECONCILE_AFTER_SECONDS at 60 an upload whose event is lost (or never sent) is stored
    within two minutes."""
    import app  # only now: its handlers read their settings from the environment set above

    sqs = make_sqs_client(settings)
    pump = Pump(
        sqs,
        queue_url,
        app.handle_bucket_events,
        app.expire_pending_runs,
        schedule_every=SCHEDULE_EVERY,
    )
    with processing_pump(sqs, processing_url).running(), pump.running():
        yield pump


@contextmanager
def api_process(
    env: dict[str, str], port: str, log: IO[bytes] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`chalice local` on `port` (with a real server's listen backlog: local/api_server.py); its
    output goes to `log` when given (else ours)."""
    local = ["local", "--no-autoreload", "--host", HOST, "--port", port]
    process = subprocess.Popen(  # noqa: S603 (this Python, fixed arguments)
        [sys.executable, "-m", "local.api_server", *local],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log and subprocess.STDOUT,
        start_new_session=True,  # its own process group, so nothing outlives us
    )
    try:
        yield process
    finally:
        stop_group(process)


def queue_banner(queue: EventQueue) -> str:
    return f"{queue.url} (dead letters: {queue.dead_letter_url})"


def run_events_banner(settings: Settings) -> str:
    if not settings.inlet_event_webhooks:
        return "no webhook (INLET_EVENT_WEBHOOKS=URL,... with INLET_EVENT_SIGNING_SECRET)"
    return "signed webhooks to " + ", ".join(settings.inlet_event_webhooks)


def auth_banner(settings: Settings) -> str:
    if settings.inlet_auth == "off":
        return "off: no token needed (INLET_AUTH=required make dev turns tokens on)"
    return "required: create a token with `.venv/bin/python -m local.admin create-token NAME`"


@contextmanager
def web_page(settings: LocalSettings, api_url: str) -> Iterator[str]:
    """The page on http://127.0.0.1:INLET_WEB_PORT/ while the stack runs; a line for the banner.
    A taken port leaves the rest of the stack running (Vite's dev server still works) and says
    so, as a second `make dev` or a test stack may hold it."""
    with ExitStack() as running:
        try:
            url = running.enter_context(
                serving(site_for(settings, api_url), HOST, settings.inlet_web_port)
            )
        except OSError as exc:
            yield (
                f"NOT SERVED: {HOST}:{settings.inlet_web_port} is taken ({exc.strerror}); "
                "INLET_WEB_PORT=... make dev moves it"
            )
            return
        yield f"{url}/{page_status()}"


def main() -> None:
    env = dev_environment(dict(os.environ))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with ExitStack() as stack:
        if "S3_ENDPOINT_URL" not in env:
            (ROOT / ".inlet").mkdir(exist_ok=True)
            moto = moto_server(ROOT / ".inlet" / "moto.log", int(env["INLET_S3_PORT"]))
            env["S3_ENDPOINT_URL"] = stack.enter_context(moto)
        os.environ.update(env)
        settings = LocalSettings.from_env(env)
        s3 = make_s3_client(settings)
        # Bucket, CORS, queues, dead-letter queues, notification: the same code as `local.init`.
        made = init_resources(settings, s3=s3)
        events, processing = made.queue, made.processing
        assert events is not None
        assert processing is not None
        upgrade_url(settings.database_url)
        stack.enter_context(event_pump(settings, events.url, processing.url))
        api_url = f"http://{HOST}:{settings.inlet_api_port}"
        api = stack.enter_context(api_process(env, str(settings.inlet_api_port)))
        wait_until_ok(f"{api_url}/health", 30, api)
        page = stack.enter_context(web_page(settings, api_url))  # frontend/dist, config.json
        print(
            "\nInlet is running (Ctrl-C stops everything)\n"
            f"  Web page      {page}\n"
            f"  API           {api_url}   (try: curl {api_url}/health)\n"
            f"  OpenAPI       {api_url}/v1/openapi.json\n"
            f"  S3 endpoint   {settings.s3_endpoint_url}   bucket: {settings.inlet_bucket}\n"
            f"  Database      {settings.database_url}\n"
            f"  Bucket events {queue_banner(events)}\n"
            f"  Processing    {queue_banner(processing)}\n"
            f"  Run events    {run_events_banner(settings)}\n"
            f"  Auth          {auth_banner(settings)}\n",
            flush=True,
        )
        while not stop.wait(0.5):
            if api.poll() is not None:
                raise SystemExit(f"the API process exited with code {api.returncode}")
    print("Inlet stopped.", flush=True)


if __name__ == "__main__":
    main()
