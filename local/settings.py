"""The settings only local stacks read, on top of the deployed ones (`.env.example` documents
each): where `make dev` listens (the API, the S3 emulator, the web page: three origins) and which
bucket `python -m local.web publish` copies the page into."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from chalicelib.config import Settings

Port = Annotated[int, Field(ge=1, le=65535)]


class LocalSettings(Settings):
    inlet_api_port: Port = 8000
    inlet_s3_port: Port = 9000
    # The page's own origin (local/web.py serves it): never the S3 endpoint's, which serves
    # uploads, so an uploaded page cannot read the token the page keeps (docs/security.md).
    inlet_web_port: Port = 8080
    inlet_web_bucket: Annotated[str, Field(min_length=3, max_length=63)] = "inlet-web"

    @model_validator(mode="after")
    def _three_origins(self) -> LocalSettings:
        ports = (self.inlet_api_port, self.inlet_s3_port, self.inlet_web_port)
        if len(set(ports)) < len(ports):
            raise ValueError(
                "INLET_API_PORT, INLET_S3_PORT and INLET_WEB_PORT must differ: the API, the "
                "upload bucket and the web page are three origins"
            )
        return self
