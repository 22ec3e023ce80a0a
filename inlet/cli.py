"""`inlet`: upload files to Inlet, inspect runs and download their files, over the HTTP API
and presigned URLs only."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from rich.console import Console

from inlet import __version__
from inlet.api import (
    DEFAULT_API_URL,
    FINAL_STATUSES,
    ApiClient,
    ApiError,
    LimitUse,
    RunDetail,
    RunOut,
)
from inlet.download import Downloader, Mismatch, Outcome, Target, local_names, select
from inlet.files import Cancelled, LocalFile
from inlet.plan import HASH_FIRST_MAX, Plan, Request, hash_first_max, plan_upload
from inlet.progress import Bars, Quiet, Reporter
from inlet.retry import API_RETRY, TRANSFER_RETRY, RetryPolicy
from inlet.state import StateStore, state_dir
from inlet.text import printable
from inlet.upload import FileChanged, Uploader, UploadError

EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_USAGE = 2
EXIT_API = 3
EXIT_UPLOAD = 4
EXIT_TIMEOUT = 5
EXIT_MISMATCH = 6
EXIT_INTERRUPTED = 130

EPILOG = f"""\
exit codes:
  {EXIT_OK}    success (with --wait: every file of the run is stored; download: every file
       asked for is saved and verified)
  {EXIT_RUN_FAILED}    with --wait: the run ended failed, cancelled or expired
  {EXIT_USAGE}    usage error: bad arguments, a missing or unreadable file, a FILE the run
       does not have, a download that would replace a file (without --force)
  {EXIT_API}    the API refused a request, answered an error or could not be reached
  {EXIT_UPLOAD}    bytes could not be moved to or from the bucket, even after retries
  {EXIT_TIMEOUT}    --wait-timeout passed before the run was final
  {EXIT_MISMATCH}    a downloaded file's sha256 or size is not the recorded one (not kept)
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C); an upload resumes when the same command runs again

environment:
  INLET_API_URL    the API (default {DEFAULT_API_URL}); --api overrides it
  INLET_API_TOKEN  the API token, sent as `Authorization: Bearer`; --token overrides it
  INLET_PARALLEL   parts uploaded, or files downloaded, at once (default 4); --parallel
                   overrides it
  INLET_STATE_DIR  where unfinished uploads are remembered (default ~/.cache/inlet)
"""


class UsageError(Exception):
    pass


class WaitTimeout(Exception):
    pass


def _positive(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {raw!r}")
    return value


def _common() -> argparse.ArgumentParser:
    """Options every command takes; SUPPRESS lets them stand before or after the command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--api", metavar="URL", default=argparse.SUPPRESS, help="the Inlet API (env INLET_API_URL)"
    )
    common.add_argument(
        "--token",
        metavar="TOKEN",
        default=argparse.SUPPRESS,
        help="API token (env INLET_API_TOKEN, which keeps it out of `ps`)",
    )
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print JSON on stdout instead of text",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="inlet",
        description="Upload files to Inlet, inspect runs, download their files.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"inlet {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    upload = commands.add_parser(
        "upload",
        parents=[common],
        help="upload files as one run",
        description="Upload files as one run, straight to the bucket. "
        "An interrupted upload resumes when the same command runs again.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    upload.add_argument("paths", nargs="+", metavar="PATH", help="files to upload")
    upload.add_argument("--type", help="the run type (required unless --resume)")
    upload.add_argument("--label", help="a short label for the run")
    upload.add_argument("--notes", help="free-text notes for the run")
    upload.add_argument("--resume", metavar="RUN_ID", help="resume this unfinished run")
    upload.add_argument(
        "--parallel",
        type=_positive,
        metavar="N",
        default=os.environ.get("INLET_PARALLEL", "4"),  # parsed by `type`
        help="parts uploaded at once (default: 4, env INLET_PARALLEL)",
    )
    upload.add_argument(
        "--wait",
        action="store_true",
        help="wait until the run is final (long-poll); exit 1 unless it is stored",
    )
    upload.add_argument(
        "--wait-timeout",
        type=float,
        metavar="SECONDS",
        help="with --wait: give up after this long (exit 5)",
    )

    runs = commands.add_parser("runs", parents=[common], help="list runs, newest first")
    runs.add_argument("--status", help="only runs with this status")
    runs.add_argument("--type", help="only runs of this type")
    runs.add_argument("--limit", type=_positive, default=20, help="at most N runs (default 20)")

    run = commands.add_parser("run", parents=[common], help="show a run and its files")
    run.add_argument("run_id", metavar="RUN_ID")

    cancel = commands.add_parser("cancel", parents=[common], help="cancel a pending run")
    cancel.add_argument("run_id", metavar="RUN_ID")

    download = commands.add_parser(
        "download",
        parents=[common],
        help="download a run's stored files, each verified by its sha256",
        description="Download files of a run straight from the bucket, in parallel. Each is "
        "verified against the size and sha256 the server recorded and takes its name only "
        "then; a mismatch keeps nothing and exits 6.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    download.add_argument("run_id", metavar="RUN_ID")
    download.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="a file's name or id (default: every stored file of the run)",
    )
    download.add_argument(
        "--out", metavar="DIR", default=".", help="where to save them (default: here)"
    )
    download.add_argument("--force", action="store_true", help="replace files that exist")
    download.add_argument(
        "--parallel",
        type=_positive,
        metavar="N",
        default=os.environ.get("INLET_PARALLEL", "4"),  # parsed by `type`
        help="files downloaded at once (default: 4, env INLET_PARALLEL)",
    )

    commands.add_parser("health", parents=[common], help="check the API, database and bucket")
    commands.add_parser(
        "limits", parents=[common], help="your quotas and rate limits, and how much is in use"
    )
    return parser


# --- output ---------------------------------------------------------------------------------


def out(line: str) -> None:
    """One line on stdout, escaped (`printable`)."""
    print(printable(line))


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def print_json(data: object) -> None:
    # ASCII (json.dumps' default): every control or bidi character is a \\u escape.
    print(json.dumps(data, indent=2))


def run_line(run: RunOut) -> str:
    label = f"  {run['label']}" if run["label"] else ""
    return (
        f"{run['id']}  {run['status']:<9}  {run['type']:<14}  {run['file_count']:>5}  "
        f"{human_size(run['total_bytes']):>10}  {run['created_at']}{label}"
    )


def print_run(run: RunDetail) -> None:
    """The run and its files as text; everything the API sent is escaped (`printable`)."""
    out(f"run      {run['id']}")
    fields = {
        "status": run["status"],
        "type": run["type"],
        "label": run["label"],
        "notes": run["notes"],
        "source": run["source"],
        "created": run["created_at"],
        "stored": run["stored_at"],
    }
    for name, value in fields.items():
        if value:
            # Notes keep their lines (each escaped), indented under the first; in any other
            # field a line break is escaped like every control.
            lines = str(value).splitlines() if name == "notes" else [str(value)]
            print(f"{name:<9}" + ("\n" + " " * 9).join(map(printable, lines)))
    if run["error"]:
        out(f"error    {run['error']['code']}: {run['error']['message']}")
    out(f"files    {run['file_count']} ({human_size(run['total_bytes'])})")
    for file in run["files"]:
        problem = f"  {file['error']['code']}: {file['error']['message']}" if file["error"] else ""
        out(
            f"  {file['status']:<8} {human_size(file['size_bytes']):>10}  "
            f"{file['sha256'] or '-':<64}  {file['name']}{problem}"
        )


def show(args: argparse.Namespace, data: Any, text: Callable[[], None]) -> None:
    if getattr(args, "json", False):
        print_json(data)
    else:
        text()


# --- commands -------------------------------------------------------------------------------


@contextmanager
def bars(console: Console, title: str, total: int, transient: bool = False) -> Iterator[Reporter]:
    """Progress bars on a terminal; nothing when stderr is a pipe or a file."""
    if not console.is_terminal:
        yield Quiet()
        return
    with Bars(console, title, total, transient) as reporter:
        yield reporter


# Seconds each `GET /v1/runs/{id}?wait=` asks the server to hold it while the run is pending;
# the server holds it at most INLET_MAX_WAIT_SECONDS (20 by default, under API Gateway's 29 s).
LONG_POLL = 20
# A pending answer sooner than this came from a server that does not hold requests.
HELD_AT_LEAST = 1.0


def wait_for_run(api: ApiClient, run_id: str, timeout: float | None) -> RunDetail:
    """Until the run is final, by long-poll: the server answers as soon as the run leaves
    `pending`, or after its wait (then the loop asks again), so a run is seen final one round
    trip after it is, with one request per 20 s meanwhile. A server that answers at once (older
    than `?wait=`, or one with INLET_MAX_WAIT_SECONDS=0) is polled instead, backing off from
    0.25 s to 2 s. `timeout` bounds the whole wait: no request asks to be held beyond it."""
    deadline = None if timeout is None else time.monotonic() + timeout
    delay = 0.25
    while True:
        asked = time.monotonic()
        left = None if deadline is None else deadline - asked
        wait = LONG_POLL if left is None else max(0, min(LONG_POLL, int(left)))
        run = api.get_run(run_id, wait=wait)
        if run["status"] in FINAL_STATUSES:
            return run
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            raise WaitTimeout(f"run {run_id} is still {run['status']} after {timeout:g} s")
        if now - asked < HELD_AT_LEAST:
            time.sleep(delay if deadline is None else min(delay, deadline - now))
            delay = min(2.0, delay * 1.25)


def _local_files(paths: list[str]) -> list[LocalFile]:
    files = []
    for raw in paths:
        try:
            local = LocalFile.stat(raw)
        except OSError as exc:
            raise UsageError(f"{raw}: {exc.strerror or exc}") from None
        if not os.access(local.path, os.R_OK):
            raise UsageError(f"{raw}: permission denied")
        files.append(local)
    return files


def transfer(
    api: ApiClient,
    plan: Plan,
    store: StateStore,
    parallel: int,
    console: Console,
    retry: RetryPolicy = TRANSFER_RETRY,
) -> int:
    """Send what the bucket lacks; the state file follows each finished file."""
    run_id = plan.state.run_id
    todo = sum(f.size for f in plan.state.files if not f.completed)
    try:
        with bars(console, "upload", todo) as progress:
            uploader = Uploader(api, run_id, parallel, progress, retry)
            uploader.upload(plan.state.files, plan.signed, lambda _: store.save(plan.state))
    except (KeyboardInterrupt, Cancelled):
        fail(f"interrupted; run the same command again to resume run {run_id}")
        return EXIT_INTERRUPTED
    except FileChanged as exc:
        fail(f"upload failed: {exc}")
        return EXIT_UPLOAD
    except (UploadError, OSError) as exc:
        fail(f"upload failed: {exc}; run the same command again to resume run {run_id}")
        return EXIT_UPLOAD
    store.delete(plan.state)
    return EXIT_OK


def wait_and_show(args: argparse.Namespace, api: ApiClient, run_id: str, console: Console) -> int:
    waiting = console.status(f"run {run_id}: waiting for the server to verify the files")
    with waiting if console.is_terminal else nullcontext():
        run = wait_for_run(api, run_id, args.wait_timeout)
    show(args, run, lambda: print_run(run))
    if run["status"] == "stored":
        return EXIT_OK
    reason = f": {run['error']['message']}" if run["error"] else ""
    failed = ", ".join(f"{f['name']}: {f['error']['code']}" for f in run["files"] if f["error"])
    fail(f"run {run_id} is {run['status']}{reason}" + (f" ({failed})" if failed else ""))
    return EXIT_RUN_FAILED


def cmd_upload(args: argparse.Namespace, api: ApiClient) -> int:
    if not args.type and not args.resume:
        raise UsageError("upload needs --type (or --resume RUN_ID)")
    files = _local_files(args.paths)
    console = Console(stderr=True)
    store = StateStore(state_dir())
    limit = hash_first_max(api, files) if not args.resume else HASH_FIRST_MAX
    request = Request(args.type, args.label, args.notes, files, args.resume, limit)
    small = sum(f.size for f in files if f.size <= limit)
    with bars(console, "sha256", small, transient=True) as progress:
        plan = plan_upload(api, store, request, progress)
    if plan.resumed:
        print(f"inlet: resuming run {plan.state.run_id}", file=sys.stderr)
    code = transfer(api, plan, store, args.parallel, console, args.retry)
    if code != EXIT_OK:
        return code
    if args.wait:
        return wait_and_show(args, api, plan.state.run_id, console)
    run = api.get_run(plan.state.run_id)
    show(args, run, lambda: print_run(run))
    return EXIT_OK


def _targets(args: argparse.Namespace, run: RunDetail) -> list[Target]:
    """Where each chosen file goes; refuses (exit 2) to replace a file without --force."""
    try:
        chosen, skipped = select(run, args.files)
    except LookupError as exc:
        raise UsageError(str(exc)) from None
    for file in skipped:
        fail(f"{file['name']}: not downloaded, it is {file['status']}")
    out_dir = Path(args.out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {args.out}: {exc.strerror or exc}") from None
    names = local_names(run["files"])
    targets = [Target(file, out_dir / names[file["id"]]) for file in chosen]
    existing = [str(t.path) for t in targets if os.path.lexists(t.path)]
    if existing and not args.force:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise UsageError(f"{existing[0]} exists{more}; --force replaces it")
    return targets


def outcome_code(outcome: Outcome) -> int:
    """A refusal of the API 3, a transfer 4, bytes that are not the recorded ones 6."""
    if outcome.error is None:
        return EXIT_OK
    if isinstance(outcome.error, ApiError):
        return EXIT_API
    return EXIT_MISMATCH if isinstance(outcome.error, Mismatch) else EXIT_UPLOAD


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    file, link, error = outcome.target.file, outcome.link, outcome.error
    return {
        "id": file["id"],
        "name": file["name"],
        "path": str(outcome.target.path) if link else None,
        "size_bytes": file["size_bytes"],
        "sha256": link["sha256"] if link else None,
        "version_id": link["version_id"] if link else None,
        "error": None if error is None else {"code": error.code, "message": str(error)},
    }


def cmd_download(args: argparse.Namespace, api: ApiClient) -> int:
    run = api.get_run(args.run_id)
    targets = _targets(args, run)
    console = Console(stderr=True)
    total = sum(t.file["size_bytes"] for t in targets)
    try:
        with bars(console, "download", total) as progress:
            downloader = Downloader(api, run["id"], args.parallel, progress, args.retry, args.force)
            outcomes = downloader.download(targets)
    except (KeyboardInterrupt, Cancelled):
        fail("interrupted; the files saved so far are verified, nothing else was kept")
        return EXIT_INTERRUPTED
    for outcome in outcomes:
        error = outcome.error
        if isinstance(error, ApiError):
            fail(f"{outcome.target.file['name']}: {refusal(error)}")
        elif error is not None:
            fail(str(error))

    def text() -> None:
        for outcome in outcomes:
            if outcome.link:  # sha256sum's format: `sha256sum -c` checks them again
                out(f"{outcome.link['sha256']}  {outcome.target.path}")

    show(args, {"run_id": run["id"], "files": [outcome_json(o) for o in outcomes]}, text)
    return max(map(outcome_code, outcomes), default=EXIT_OK)


def cmd_runs(args: argparse.Namespace, api: ApiClient) -> int:
    items: list[RunOut] = []
    cursor = None
    while len(items) < args.limit:
        page = api.list_runs(args.status, args.type, min(200, args.limit - len(items)), cursor)
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    def text() -> None:
        for run in items:
            out(run_line(run))

    show(args, {"items": items, "next_cursor": cursor}, text)
    return EXIT_OK


def cmd_run(args: argparse.Namespace, api: ApiClient) -> int:
    run = api.get_run(args.run_id)
    show(args, run, lambda: print_run(run))
    return EXIT_OK


def cmd_cancel(args: argparse.Namespace, api: ApiClient) -> int:
    run = api.cancel(args.run_id)
    show(args, run, lambda: out(f"run {run['id']} {run['status']}"))
    return EXIT_OK


def cmd_health(args: argparse.Namespace, api: ApiClient) -> int:
    health = api.health()
    checks = "  ".join(f"{name}: {value}" for name, value in health["checks"].items())
    show(args, health, lambda: out(f"{health['status']}  {checks}"))
    return EXIT_OK if health["status"] == "ok" else EXIT_API


def limit_line(name: str, use: LimitUse, size: Callable[[int], str] = str) -> str:
    """`pending runs     3 of 20, 17 left`; a full rate says when it frees up."""
    if use["limit"] is None:
        return f"{name:<17}{size(use['used'])} (no limit)"
    left = use["remaining"] or 0
    line = f"{name:<17}{size(use['used'])} of {size(use['limit'])}, "
    if left:
        return line + f"{size(left)} left"
    if use["retry_after"]:
        return line + f"none left: one frees up in {use['retry_after']} s"
    return line + "none left: wait for uploads to finish, or cancel some"


def cmd_limits(args: argparse.Namespace, api: ApiClient) -> int:
    limits = api.limits()

    def text() -> None:
        owner = limits["owner"]
        out(f"{'owner':<17}{owner if owner is not None else '(one for all: no tokens)'}")
        out(limit_line("pending runs", limits["pending_runs"]))
        out(limit_line("pending bytes", limits["pending_bytes"], human_size))
        out(limit_line("runs per minute", limits["runs_per_minute"]))
        inbox = limits["inbox_per_minute"]
        if inbox is not None:
            out(limit_line("inbox per minute", inbox))
        rules = limits["uploads"]
        out(f"{'largest file':<17}{human_size(rules['max_file_size'])}")
        out(f"{'files per run':<17}{rules['max_files_per_run']}")
        out(f"{'multipart above':<17}{human_size(rules['multipart_threshold'])}")

    show(args, limits, text)
    return EXIT_OK


def refusal(exc: ApiError) -> str:
    """An API error in words, with what to do: a token, or when to try again."""
    if exc.means("unauthorized"):
        return f"{exc}; set INLET_API_TOKEN or pass --token"
    if exc.status == 429 or exc.means("quota_exceeded"):
        when = exc.retry_after
        later = (
            f"; try again after {time.strftime('%H:%M:%S', time.localtime(time.time() + when))}"
            f" (in {when:.0f} s); `inlet limits` shows what is in use"
            if when is not None
            else "; try again later; `inlet limits` shows what is in use"
        )
        return f"{exc}{later}"
    return str(exc)


COMMANDS: dict[str, Callable[[argparse.Namespace, ApiClient], int]] = {
    "upload": cmd_upload,
    "download": cmd_download,
    "runs": cmd_runs,
    "run": cmd_run,
    "cancel": cmd_cancel,
    "health": cmd_health,
    "limits": cmd_limits,
}


def fail(message: str) -> None:
    """One line on stderr, never a traceback; escaped, as it may quote the API (`printable`)."""
    print(f"inlet: {printable(' '.join(message.split()))}", file=sys.stderr)


def main(argv: list[str] | None = None, retry: RetryPolicy | None = None) -> int:
    """The `inlet` command. `retry` replaces the default retry policies of API calls and bucket
    transfers (tests pass `RetryPolicy(base_delay=0)` so as not to wait)."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    api_url = getattr(args, "api", None) or os.environ.get("INLET_API_URL") or DEFAULT_API_URL
    token = getattr(args, "token", None) or os.environ.get("INLET_API_TOKEN")
    pool_size = max(8, getattr(args, "parallel", 0))
    # A refusal that asks to wait (429 Retry-After) is waited out, bounded by the policy, and
    # said on stderr as it happens.
    api = ApiClient(api_url, token, pool_size=pool_size, retry=retry or API_RETRY, notice=fail)
    args.retry = retry or TRANSFER_RETRY  # for bucket transfers, up and down
    try:
        return COMMANDS[args.command](args, api)
    except UsageError as exc:
        fail(str(exc))
        return EXIT_USAGE
    except ApiError as exc:
        fail(refusal(exc))
        return EXIT_API
    except (UploadError, OSError) as exc:
        fail(str(exc))
        return EXIT_UPLOAD
    except WaitTimeout as exc:
        fail(str(exc))
        return EXIT_TIMEOUT
    except KeyboardInterrupt:
        fail("interrupted")
        return EXIT_INTERRUPTED
