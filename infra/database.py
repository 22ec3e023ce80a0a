"""The network and the database: a VPC of isolated subnets, Postgres on RDS behind RDS Proxy,
its credentials in Secrets Manager.

No NAT gateway: the functions reach S3 through a gateway endpoint (free), and Secrets Manager
(which RDS Proxy needs too), SQS and EventBridge through interface endpoints: the outbox sends
stored runs to the processing queue and run events to the bus from inside the VPC. Lambda's own
service polls the queues. docs/deploy.md compares the costs.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from constructs import Construct

from infra.config import DeployConfig

DB_NAME = "inlet"
DB_USER = "inlet"
POSTGRES_PORT = 5432


class DataStore(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,  # RDS wants subnets in two zones
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                )
            ],
        )
        self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        for name, service in (
            ("SecretsManager", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER),
            ("Sqs", ec2.InterfaceVpcEndpointAwsService.SQS),
            ("EventBridge", ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE),
        ):
            self.vpc.add_interface_endpoint(name, service=service, subnets=self.subnets)
        # The functions' security group: the only client the proxy admits.
        self.function_security_group = ec2.SecurityGroup(
            self,
            "FunctionSecurityGroup",
            vpc=self.vpc,
            description="Inlet Lambda functions",
        )
        self.secret = rds.DatabaseSecret(self, "Secret", username=DB_USER, dbname=DB_NAME)
        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_16_13),
            instance_type=ec2.InstanceType.of(
                ec2.InstanceClass.BURSTABLE4_GRAVITON, ec2.InstanceSize.MICRO
            ),
            vpc=self.vpc,
            vpc_subnets=self.subnets,
            credentials=rds.Credentials.from_secret(self.secret),
            database_name=DB_NAME,
            allocated_storage=20,
            max_allocated_storage=100,
            storage_type=rds.StorageType.GP3,
            storage_encrypted=True,
            multi_az=False,
            backup_retention=cdk.Duration.days(7),
            deletion_protection=config.retain,
            removal_policy=(
                cdk.RemovalPolicy.SNAPSHOT if config.retain else cdk.RemovalPolicy.DESTROY
            ),
            delete_automated_backups=not config.retain,
        )
        self.proxy = rds.DatabaseProxy(
            self,
            "Proxy",
            proxy_target=rds.ProxyTarget.from_instance(self.instance),
            db_proxy_name=f"{config.stack_name}-db",  # unique per account and region
            secrets=[self.secret],
            vpc=self.vpc,
            vpc_subnets=self.subnets,
            require_tls=True,
        )
        self.proxy.connections.allow_from(
            self.function_security_group, ec2.Port.tcp(POSTGRES_PORT), "Inlet functions"
        )
