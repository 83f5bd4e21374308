"""Generate the IaC benchmark corpus: Terraform, CloudFormation and Kubernetes resources with
seeded random settings, some secure and some not. Deterministic for a given seed.

Usage: python bench/iac/make_corpus.py [--out bench/iac/corpus] [--scale 1] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path


def _tf_bucket(r: random.Random, i: int) -> str:
    out = [f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "corpus-bucket-{i}"\n}}\n']
    if r.random() < 0.5:
        out.append(
            f'resource "aws_s3_bucket_server_side_encryption_configuration" "b{i}" {{\n'
            f"  bucket = aws_s3_bucket.b{i}.id\n  rule {{\n    apply_server_side_encryption_by_default {{\n"
            f'      sse_algorithm = "{r.choice(["AES256", "aws:kms"])}"\n    }}\n  }}\n}}\n'
        )
    if r.random() < 0.5:
        out.append(
            f'resource "aws_s3_bucket_versioning" "b{i}" {{\n  bucket = aws_s3_bucket.b{i}.id\n'
            f'  versioning_configuration {{\n    status = "{r.choice(["Enabled", "Suspended"])}"\n  }}\n}}\n'
        )
    if r.random() < 0.3:
        acl = r.choice(["private", "public-read", "public-read-write"])
        out.append(
            f'resource "aws_s3_bucket_acl" "b{i}" {{\n  bucket = aws_s3_bucket.b{i}.id\n'
            f'  acl    = "{acl}"\n}}\n'
        )
    if r.random() < 0.5:
        out.append(
            f'resource "aws_s3_bucket_public_access_block" "b{i}" {{\n  bucket = aws_s3_bucket.b{i}.id\n'
            "  block_public_acls       = true\n  block_public_policy     = true\n"
            "  ignore_public_acls      = true\n"
            f"  restrict_public_buckets = {str(r.random() < 0.7).lower()}\n}}\n"
        )
    return "\n".join(out)


def _tf_sg(r: random.Random, i: int) -> str:
    rules = []
    for _ in range(r.randint(1, 3)):
        port = r.choice([22, 80, 443, 3389, 5432, 8080])
        cidr = r.choice(["0.0.0.0/0", "10.0.0.0/8", "192.168.1.0/24"])
        rules.append(
            f'  ingress {{\n    description = "rule"\n    from_port   = {port}\n    to_port     = {port}\n'
            f'    protocol    = "tcp"\n    cidr_blocks = ["{cidr}"]\n  }}\n'
        )
    return (
        f'resource "aws_security_group" "sg{i}" {{\n  name = "sg{i}"\n  vpc_id = "vpc-1"\n'
        + "".join(rules)
        + "}\n"
    )


def _tf_db(r: random.Random, i: int) -> str:
    return (
        f'resource "aws_db_instance" "db{i}" {{\n  identifier = "db{i}"\n  engine = "postgres"\n'
        f'  instance_class = "db.t3.micro"\n  allocated_storage = 20\n'
        f"  storage_encrypted = {str(r.random() < 0.6).lower()}\n"
        f"  publicly_accessible = {str(r.random() < 0.3).lower()}\n"
        f"  backup_retention_period = {r.choice([0, 1, 7, 14])}\n"
        f"  deletion_protection = {str(r.random() < 0.5).lower()}\n}}\n"
    )


def _tf_misc(r: random.Random, i: int) -> str:
    choice = r.randrange(6)
    if choice == 0:
        encrypted = str(r.random() < 0.5).lower()
        return (
            f'resource "aws_ebs_volume" "v{i}" {{\n  availability_zone = "eu-west-1a"\n  size = 10\n'
            f"  encrypted = {encrypted}\n}}\n"
        )
    if choice == 1:
        tokens = r.choice(["required", "optional"])
        return (
            f'resource "aws_instance" "i{i}" {{\n  ami = "ami-123"\n  instance_type = "t3.micro"\n'
            f'  metadata_options {{\n    http_tokens = "{tokens}"\n  }}\n'
            f"  root_block_device {{\n    encrypted = {str(r.random() < 0.5).lower()}\n  }}\n}}\n"
        )
    if choice == 2:
        rotation = str(r.random() < 0.5).lower()
        return (
            f'resource "aws_kms_key" "k{i}" {{\n  description = "k"\n  enable_key_rotation = {rotation}\n}}\n'
        )
    if choice == 3:
        kms = '  kms_master_key_id = "alias/aws/sqs"\n' if r.random() < 0.5 else ""
        return f'resource "aws_sqs_queue" "q{i}" {{\n  name = "q{i}"\n{kms}}}\n'
    if choice == 4:
        return (
            f'resource "aws_cloudtrail" "t{i}" {{\n  name = "t{i}"\n  s3_bucket_name = "logs"\n'
            f"  is_multi_region_trail = {str(r.random() < 0.5).lower()}\n"
            f"  enable_log_file_validation = {str(r.random() < 0.5).lower()}\n}}\n"
        )
    kms = '  kms_master_key_id = "alias/aws/sns"\n' if r.random() < 0.5 else ""
    return f'resource "aws_sns_topic" "s{i}" {{\n  name = "s{i}"\n{kms}}}\n'


def _cfn(r: random.Random, i: int) -> str:
    lines = ['AWSTemplateFormatVersion: "2010-09-09"', "Resources:"]
    for j in range(4):
        kind = r.randrange(5)
        name = f"R{i}x{j}"
        if kind == 0:
            lines += [
                f"  {name}:",
                "    Type: AWS::S3::Bucket",
                "    Properties:",
                f"      BucketName: !Sub '${{AWS::StackName}}-{j}'",
            ]
            if r.random() < 0.5:
                lines += [
                    "      BucketEncryption:",
                    "        ServerSideEncryptionConfiguration:",
                    "          - ServerSideEncryptionByDefault:",
                    "              SSEAlgorithm: AES256",
                ]
            if r.random() < 0.5:
                lines += ["      VersioningConfiguration:", "        Status: Enabled"]
        elif kind == 1:
            lines += [
                f"  {name}:",
                "    Type: AWS::RDS::DBInstance",
                "    Properties:",
                "      Engine: postgres",
                "      DBInstanceClass: db.t3.micro",
                f"      StorageEncrypted: {str(r.random() < 0.5).lower()}",
                f"      PubliclyAccessible: {str(r.random() < 0.3).lower()}",
            ]
        elif kind == 2:
            port = r.choice([22, 443, 3389])
            cidr = r.choice(["0.0.0.0/0", "10.0.0.0/8"])
            lines += [
                f"  {name}:",
                "    Type: AWS::EC2::SecurityGroup",
                "    Properties:",
                "      GroupDescription: corpus",
                "      SecurityGroupIngress:",
                "        - IpProtocol: tcp",
                f"          FromPort: {port}",
                f"          ToPort: {port}",
                f"          CidrIp: {cidr}",
            ]
        elif kind == 3:
            lines += [
                f"  {name}:",
                "    Type: AWS::EC2::Volume",
                "    Properties:",
                "      AvailabilityZone: eu-west-1a",
                "      Size: 10",
                f"      Encrypted: {str(r.random() < 0.5).lower()}",
            ]
        else:
            lines += [
                f"  {name}:",
                "    Type: AWS::KMS::Key",
                "    Properties:",
                f"      EnableKeyRotation: {str(r.random() < 0.5).lower()}",
                "      KeyPolicy: {}",
            ]
    return "\n".join(lines) + "\n"


def _k8s(r: random.Random, i: int) -> str:
    kind = r.choice(["Deployment", "StatefulSet", "DaemonSet", "Pod", "CronJob"])
    security: list[str] = []
    if r.random() < 0.3:
        security.append("privileged: true")
    if r.random() < 0.5:
        security.append("allowPrivilegeEscalation: false")
    if r.random() < 0.5:
        security.append("readOnlyRootFilesystem: true")
    if r.random() < 0.5:
        security.append("runAsNonRoot: true")
    if r.random() < 0.3:
        security.append("runAsUser: 0")
    image = r.choice(["nginx:latest", "nginx:1.27.2", "nginx", "redis:7.4@sha256:" + "a" * 64])
    container = [f"- name: c{i}", f"  image: {image}"]
    if security:
        container.append("  securityContext:")
        container += [f"    {s}" for s in security]
    if r.random() < 0.5:
        container += ["  resources:", "    limits:", "      cpu: 500m", "      memory: 256Mi"]
    pod = []
    if r.random() < 0.2:
        pod.append("hostNetwork: true")
    if r.random() < 0.2:
        pod.append("hostPID: true")
    pod.append("containers:")
    pod += ["  " + line for line in container]
    if r.random() < 0.15:
        pod += ["volumes:", "  - name: sock", "    hostPath:", "      path: /var/run/docker.sock"]

    def indent(lines: list[str], n: int) -> list[str]:
        return [" " * n + line for line in lines]

    head = [f"kind: {kind}", "metadata:", f"  name: w{i}", f"  namespace: ns{i % 5}"]
    if kind == "Pod":
        body = ["apiVersion: v1", *head, "spec:", *indent(pod, 2)]
    elif kind == "CronJob":
        body = [
            "apiVersion: batch/v1",
            *head,
            "spec:",
            '  schedule: "0 * * * *"',
            "  jobTemplate:",
            "    spec:",
            "      template:",
            "        spec:",
            *indent(pod, 10),
        ]
    else:
        body = [
            "apiVersion: apps/v1",
            *head,
            "spec:",
            "  selector:",
            "    matchLabels:",
            f"      app: w{i}",
            "  template:",
            "    metadata:",
            "      labels:",
            f"        app: w{i}",
            "    spec:",
            *indent(pod, 6),
        ]
    return "\n".join(body) + "\n"


def main() -> None:
    """Write the corpus."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "corpus")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    r = random.Random(args.seed)  # bastion: ignore[sast.bandit.B311] seeded test-data generator, not security
    if args.out.exists():
        shutil.rmtree(args.out)
    (args.out / "terraform").mkdir(parents=True)
    (args.out / "cloudformation").mkdir()
    (args.out / "kubernetes").mkdir()
    for f in range(20 * args.scale):
        blocks = [_tf_bucket(r, f * 10 + k) for k in range(2)]
        blocks += [_tf_sg(r, f * 10 + 2), _tf_db(r, f * 10 + 3)]
        blocks += [_tf_misc(r, f * 10 + k) for k in range(4, 8)]
        (args.out / "terraform" / f"stack{f:03d}.tf").write_text("\n".join(blocks))
    for f in range(20 * args.scale):
        (args.out / "cloudformation" / f"template{f:03d}.yaml").write_text(_cfn(r, f))
    for f in range(15 * args.scale):
        docs = [_k8s(r, f * 10 + k) for k in range(8)]
        (args.out / "kubernetes" / f"manifests{f:03d}.yaml").write_text("---\n".join(docs))


if __name__ == "__main__":
    main()
