"""The whole dev stack (`python -m local.stack`) as the client's tests see it: two URLs."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.config import Settings
from chalicelib.storage import make_s3_client

BUCKET = "inlet-uploads"  # the dev stack's default upload bucket


@dataclass(frozen=True)
class Stack:
    api_url: str
    s3_url: str

    def read_object(self, key: str) -> bytes:
        s3 = make_s3_client(Settings(s3_endpoint_url=self.s3_url))
        return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
