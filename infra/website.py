"""The web page: a private bucket behind CloudFront (origin access control), published with a
`config.json` that names the API's URL, written at deploy time."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from chalicelib.config import Settings, page_config
from infra.config import DeployConfig


class Website(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            removal_policy=cdk.RemovalPolicy.RETAIN if config.retain else cdk.RemovalPolicy.DESTROY,
            auto_delete_objects=not config.retain,
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"Inlet web page ({config.stage})",
            default_root_object="index.html",
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
            ),
        )

    @property
    def origin(self) -> str:
        """The page's origin, for the API's and the upload bucket's CORS rules."""
        return f"https://{self.distribution.distribution_domain_name}"

    def publish(self, web_dir: Path, api_url: str, settings: Settings) -> None:
        """Upload the built page plus `config.json` (the API's URL, run types, whether a token
        is needed: what `make dev` writes too), then invalidate the cache so browsers get the
        new page and URL at once."""
        page = page_config(
            api_url,
            settings.inlet_run_types,
            settings.inlet_default_run_type,
            auth_required=settings.inlet_auth == "required",
        )
        s3deploy.BucketDeployment(
            self,
            "Deployment",
            destination_bucket=self.bucket,
            sources=[
                # A config.json left in a build never replaces the one written here.
                s3deploy.Source.asset(str(web_dir), exclude=["config.json"]),
                s3deploy.Source.json_data("config.json", page),
            ],
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=256,
        )
