"""An AWS Batch setup on the moto server: a compute environment, a queue and a bucket.

Batch validates what real Batch validates here: names of 3+ characters, an
instance-profile ARN as instanceRole, subnets and security groups that exist
in EC2 (bookkeeping only; nothing is sent anywhere).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from tests.helpers.moto_server import MotoServer

BUCKET = "redun-batch-test"
QUEUE = "redun-test-queue"
# Variables every Batch container needs to reach moto on loopback (and nothing else).
PASSTHROUGH = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "AWS_EC2_METADATA_DISABLED",
)


@dataclass
class BatchSetup:
    moto: MotoServer
    queue: str
    queue_arn: str
    bucket: str
    image: str

    def executor_config(self, **extra: str) -> dict[str, str]:
        import json

        config = {
            "type": "aws_batch",
            "image": self.image,
            "queue": self.queue,
            "s3_scratch": f"s3://{self.bucket}/redun",
            "job_monitor_interval": "0.5",
            "job_stale_time": "0.5",
            "role": "arn:aws:iam::123456789012:role/redun-test-job",
            "environment": json.dumps({name: None for name in PASSTHROUGH}),
        }
        config.update(extra)
        return config

    def batch(self) -> Any:
        return self.moto.client("batch")


def create_batch(moto: MotoServer, image: str, max_vcpus: int = 8) -> BatchSetup:
    """A VALID compute environment and queue, and the scratch bucket."""
    ec2, iam, batch = moto.client("ec2"), moto.client("iam"), moto.client("batch")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="redun-batch", Description="t", VpcId=vpc)
    role = iam.create_role(RoleName="redun-batch-service", AssumeRolePolicyDocument="{}")
    profile = iam.create_instance_profile(InstanceProfileName="redun-batch-instance")
    env = batch.create_compute_environment(
        computeEnvironmentName="redun-test-env",
        type="MANAGED",
        state="ENABLED",
        computeResources={
            "type": "EC2",
            "minvCpus": 0,
            "maxvCpus": max_vcpus,
            "desiredvCpus": 0,
            "instanceTypes": ["optimal"],
            "subnets": [subnet],
            "securityGroupIds": [group["GroupId"]],
            "instanceRole": profile["InstanceProfile"]["Arn"],
        },
        serviceRole=role["Role"]["Arn"],
    )
    queue = batch.create_job_queue(
        jobQueueName=QUEUE,
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": env["computeEnvironmentArn"]}],
    )
    moto.client("s3").create_bucket(Bucket=BUCKET)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return BatchSetup(moto, QUEUE, queue["jobQueueArn"], BUCKET, image)
