"""The settings only local stacks read, on top of the deployed ones (`.env.example` documents
each): where `make dev` listens and which bucket serves the page."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from chalicelib.config import Settings

Port = Annotated[int, Field(ge=1, le=65535)]


class LocalSettings(Settings):
    inlet_api_port: Port = 8000
    inlet_s3_port: Port = 9000
    inlet_web_bucket: Annotated[str, Field(min_length=3, max_length=63)] = "inlet-web"
