"""The CDK app: `python -m infra.app` (make synth) or `cdk deploy --app ...` (make deploy).

Context (`-c name=value`, or CDK_CONTEXT_JSON): `stage` (required) and the options of
`infra/config.py`. The output directory is CDK_OUTDIR (the cdk CLI sets it).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile

import aws_cdk as cdk

from infra.config import ConfigError, DeployConfig
from infra.stack import InletStack


def main() -> None:
    # Chalice's packager builds a boto3 client (it calls nothing, and the template names no
    # region): any region will do offline.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    app = cdk.App()
    try:
        config = DeployConfig.from_context(app.node.try_get_context)
    except (ConfigError, RuntimeError) as exc:
        sys.exit(f"infra: {exc}")
    # Chalice's construct packages the app into ./chalice.out: keep that out of the work tree.
    with tempfile.TemporaryDirectory(prefix="inlet-chalice-") as scratch, contextlib.chdir(scratch):
        InletStack(app, config=config)
        app.synth()


if __name__ == "__main__":
    main()
