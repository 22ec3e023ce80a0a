"""The Chalice app (API, bucket-events handler, processor, expiry schedule, migrate function)
through Chalice's CDK construct, with one least-privilege role per function, and the custom resource
that migrates the database on deploy before the new code goes live."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from chalice.cdk import Chalice
from constructs import Construct

from infra import package
from infra.config import ROOT, DeployConfig
from infra.database import DataStore
from infra.run_events import RunEventChannels
from infra.uploads import UploadStore

EVENTS_TIMEOUT = cdk.Duration.seconds(900)  # hashing a 50 GiB object takes minutes
PROCESSING_TIMEOUT = cdk.Duration.seconds(900)  # so does reading a large archive's entries
API_TIMEOUT = 30  # API Gateway gives up after 29 s anyway
# Actions that have no resource-level permissions: they are granted on "*", and only these.
NO_RESOURCE_ACTIONS = (
    # Lambda attaches VPC functions through network interfaces it creates with the role.
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
)


@dataclass(frozen=True)
class FunctionSpec:
    role: str
    timeout: int
    memory: int


# The functions of app.py by their logical IDs in Chalice's template. Any other function gets
# the `database` role, the narrowest: a new function fails closed until it is listed here.
FUNCTIONS = {
    "APIHandler": FunctionSpec("api", API_TIMEOUT, 512),
    "TokenAuthorizer": FunctionSpec("database", API_TIMEOUT, 512),
    # 1,769 MB is one full vCPU: hashing is CPU-bound once reads overlap.
    "HandleBucketEvents": FunctionSpec("events", int(EVENTS_TIMEOUT.to_seconds()), 1769),
    # The scheduled job reconciles uploads whose events were lost: it hashes, like the handler.
    "ExpirePendingRuns": FunctionSpec("schedule", int(EVENTS_TIMEOUT.to_seconds()), 1769),
    # Streams one archive at a time (never whole in memory): decompressing and hashing entries
    # wants CPU more than memory.
    "ProcessStoredRuns": FunctionSpec("processing", int(PROCESSING_TIMEOUT.to_seconds()), 1024),
    "Migrate": FunctionSpec("database", 600, 512),
}
SQS_EVENT = "Events.{}SqsEventSource.Properties"


# API Gateway's own answers -> (status, or None to keep its own; error code; message). Code and
# message are JSON expressions of the mapping template: literals, or API Gateway's variables.
GATEWAY_ERRORS = {
    "UNAUTHORIZED": ("401", '"unauthorized"', '"a valid bearer token is required"'),
    "AUTHORIZER_FAILURE": (
        "503",
        '"unavailable"',
        '"the database cannot be reached; try again shortly"',
    ),
    "MISSING_AUTHENTICATION_TOKEN": ("404", '"not_found"', '"no such route"'),
    "DEFAULT_4XX": (None, '"$context.error.responseType"', "$context.error.messageString"),
    "DEFAULT_5XX": (None, '"$context.error.responseType"', "$context.error.messageString"),
}


def revisions_fingerprint() -> str:
    """Changes whenever a revision (or env.py) changes, so the migrations run again."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "migrations").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class OptimizedChalice(Chalice):
    """Chalice's construct, with the package optimized for cold starts (infra/package.py)
    between `chalice package` and the asset that uploads it."""

    def _package_app(self) -> None:
        super()._package_app()
        package.optimize(Path(self._sam_package_dir) / "deployment.zip")


class InletApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        uploads: UploadStore,
        data: DataStore,
        channels: RunEventChannels,
        cors_origins: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        roles = self._roles(stack, uploads, data, channels)
        environment = {
            "INLET_BUCKET": uploads.bucket.bucket_name,
            "INLET_EVENTS_QUEUE": config.queue_name,
            "INLET_MAX_RECEIVES": str(config.max_receives),
            "INLET_EVENT_BUS": config.event_bus_name,
            "INLET_PROCESSING_QUEUE": config.processing_queue_name,
            "INLET_CORS_ORIGINS": ",".join(cors_origins),
            "INLET_DB_SECRET_ARN": data.secret.secret_arn,
            "INLET_DB_HOST": data.proxy.endpoint,
            "POWERTOOLS_SERVICE_NAME": "inlet",
            "POWERTOOLS_LOG_LEVEL": config.log_level,
        } | dict(config.settings)
        # A child of the stack itself: the construct names the Chalice stage after its scope.
        self.chalice = OptimizedChalice(
            stack,
            "Chalice",
            source_dir=str(ROOT),
            stage_config={
                "api_gateway_stage": "api",
                "autogen_policy": False,
                "manage_iam_role": False,
                "iam_role_arn": roles["database"].role_arn,
                "environment_variables": environment,
                "xray": True,
                "lambda_timeout": API_TIMEOUT,
                "lambda_memory_size": 512,
                "subnet_ids": [subnet.subnet_id for subnet in data.vpc.isolated_subnets],
                "security_group_ids": [data.function_security_group.security_group_id],
            },
        )
        template = self.chalice.sam_template
        self.functions = {
            name: resource for name in FUNCTIONS if (resource := self._resource(name)) is not None
        }
        for name, function in self.functions.items():
            spec = FUNCTIONS[name]
            function.add_property_override("Role", roles[spec.role].role_arn)
            function.add_property_override("Timeout", spec.timeout)
            function.add_property_override("MemorySize", spec.memory)
        for name, concurrency in (
            ("HandleBucketEvents", config.event_concurrency),
            ("ProcessStoredRuns", config.processing_concurrency),
        ):
            source = SQS_EVENT.format(name)
            # Without it Lambda ignores the handler's batchItemFailures and drops the whole batch.
            self.functions[name].add_property_override(
                f"{source}.FunctionResponseTypes", ["ReportBatchItemFailures"]
            )
            self.functions[name].add_property_override(
                f"{source}.ScalingConfig.MaximumConcurrency", concurrency
            )
        template.get_resource("RestAPI").add_property_override("TracingEnabled", True)
        # The stack owns the log groups, with a retention. (Chalice's `log_retention_in_days`
        # cannot be used: 1.34 refers to `ApiHandler`, not `APIHandler`, in the API's group.)
        self.log_groups = {
            name: logs.LogGroup(
                self,
                f"{name}Logs",
                log_group_name=f"/aws/lambda/{function.ref}",
                retention=logs.RetentionDays.ONE_MONTH,
                removal_policy=cdk.RemovalPolicy.DESTROY,
            )
            for name, function in self.functions.items()
        }
        self.url: str = template.get_output("EndpointURL").value
        self._contract_errors(template.get_resource("RestAPI").ref)
        self._migrate_on_deploy(data)

    def _contract_errors(self, rest_api_id: str) -> None:
        """API Gateway answers some requests before the app runs (no route, the authorizer's
        verdict, throttling): in the contract's JSON error shape too, not in its own."""
        for kind, (status, code, message) in GATEWAY_ERRORS.items():
            template = f'{{"error": {{"code": {code}, "message": {message}, "details": []}}}}'
            headers = {"gatewayresponse.header.Content-Type": "'application/json'"}
            if kind == "UNAUTHORIZED":
                headers["gatewayresponse.header.WWW-Authenticate"] = "'Bearer realm=\"inlet\"'"
            apigateway.CfnGatewayResponse(
                self,
                f"GatewayResponse{kind.title().replace('_', '')}",
                rest_api_id=rest_api_id,
                response_type=kind,
                status_code=status,
                response_parameters=headers,
                response_templates={"application/json": template},
            )

    def _migrate_on_deploy(self, data: DataStore) -> None:
        """Run `migrate` whenever the revisions or the database change, and start (or update)
        the other functions only after it succeeded; a failure rolls the deploy back."""
        provider = cr.Provider(
            self, "MigrationsProvider", on_event_handler=self.chalice.get_function("Migrate")
        )
        migrations = cdk.CustomResource(
            self,
            "Migrations",
            service_token=provider.service_token,
            resource_type="Custom::InletMigrations",
            properties={
                "Revisions": revisions_fingerprint(),
                "Database": data.instance.instance_identifier,
            },
        )
        migrations.node.add_dependency(self.log_groups["Migrate"])
        for name, function in self.functions.items():
            if name != "Migrate":
                function.node.add_dependency(migrations)

    def _resource(self, logical_id: str) -> cdk.CfnResource | None:
        """A resource of Chalice's template, or None when app.py does not define it."""
        try:
            return self.chalice.sam_template.get_resource(logical_id)
        except RuntimeError:  # how jsii reports the JavaScript side's error
            return None

    def _roles(
        self, stack: cdk.Stack, uploads: UploadStore, data: DataStore, channels: RunEventChannels
    ) -> dict[str, iam.Role]:
        bucket = uploads.bucket
        runs = bucket.arn_for_objects("runs/*")
        inbox = bucket.arn_for_objects("inbox/*")
        # HEAD of a missing object is 404 (not 403) only with s3:ListBucket; health checks use it.
        list_bucket = iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn])
        # The exact version a file records: hashed, processed, or signed into a download URL.
        read_versions = iam.PolicyStatement(
            actions=["s3:GetObject", "s3:GetObjectVersion"], resources=[runs, inbox]
        )
        # Whatever commits a run's state change drains the outbox after it (chalicelib/outbox.py):
        # the API (cancel), the bucket-events handler and the scheduled job.
        publish = [
            iam.PolicyStatement(
                actions=["events:PutEvents"], resources=[channels.bus.event_bus_arn]
            ),
            iam.PolicyStatement(
                actions=["sqs:SendMessage", "sqs:GetQueueUrl"],
                resources=[channels.processing_queue.queue_arn],
            ),
        ]
        grants = {
            "api": [
                list_bucket,
                read_versions,
                *publish,
                iam.PolicyStatement(
                    # Presigned PUT, multipart create/upload part/complete, list parts, abort.
                    actions=[
                        "s3:PutObject",
                        "s3:ListMultipartUploadParts",
                        "s3:AbortMultipartUpload",
                    ],
                    resources=[runs],
                ),
            ],
            "events": [
                list_bucket,
                read_versions,
                *publish,
                iam.PolicyStatement(
                    actions=[
                        "sqs:ReceiveMessage",
                        "sqs:DeleteMessage",
                        "sqs:ChangeMessageVisibility",
                        "sqs:GetQueueAttributes",
                    ],
                    resources=[uploads.queue.queue_arn],
                ),
            ],
            "schedule": [
                # Reconcile (read and hash), expire (abort, close keys with a placeholder), and
                # purge every version of ended runs' objects.
                iam.PolicyStatement(
                    actions=["s3:ListBucket", "s3:ListBucketVersions"],
                    resources=[bucket.bucket_arn],
                ),
                read_versions,
                iam.PolicyStatement(
                    actions=[
                        "s3:PutObject",
                        "s3:AbortMultipartUpload",
                        "s3:DeleteObject",
                        "s3:DeleteObjectVersion",
                    ],
                    resources=[runs],
                ),
                *publish,
            ],
            # Reads the stored files of the run an event names; publishes nothing.
            "processing": [
                list_bucket,
                read_versions,
                iam.PolicyStatement(
                    actions=[
                        "sqs:ReceiveMessage",
                        "sqs:DeleteMessage",
                        "sqs:ChangeMessageVisibility",
                        "sqs:GetQueueAttributes",
                    ],
                    resources=[channels.processing_queue.queue_arn],
                ),
            ],
            "database": [],
        }
        common = [
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"], resources=[data.secret.secret_arn]
            ),
            # Log groups are created by the stack (with a retention), so no CreateLogGroup.
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[
                    stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=f"/aws/lambda/{stack.stack_name}-*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                    + ":*"
                ],
            ),
            iam.PolicyStatement(actions=list(NO_RESOURCE_ACTIONS), resources=["*"]),
        ]
        # Inline policies: part of the role itself, so no function starts before its grants.
        return {
            name: iam.Role(
                self,
                f"{name.capitalize()}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"Inlet's {name} function(s)",
                inline_policies={"inlet": iam.PolicyDocument(statements=[*statements, *common])},
            )
            for name, statements in grants.items()
        }
