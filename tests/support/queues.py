"""SQS as the tests and benchmarks use it: how many messages a queue holds, and the queue pump
(`python -m local.pump`) running in a process of its own."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from chalicelib.config import Settings
from local.processes import ROOT, process_group
from local.resources import make_sqs_client

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def queue_depth(sqs: SQSClient | Settings, url: str) -> int:
    """Messages in the queue at `url`, visible or in flight (SQS's approximate counts), asked
    with this client or with one made from these settings."""
    client = make_sqs_client(sqs) if isinstance(sqs, Settings) else sqs
    found = client.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(found["ApproximateNumberOfMessages"]) + int(
        found["ApproximateNumberOfMessagesNotVisible"]
    )


@contextmanager
def pump_process(
    env: dict[str, str], log: Path, *options: str
) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m local.pump` as the compose stack runs it (1 s long polls, then `options`), with
    this environment, its output appended to `log`, in a process group of its own: stopped
    (SIGTERM, then SIGKILL) when the block ends, unless the test has killed it already."""
    command = [sys.executable, "-m", "local.pump", "--wait-seconds", "1", *options]
    with process_group(command, log, cwd=ROOT, env=env) as process:
        yield process
