#!/usr/bin/env python3
"""Start a moto S3 server on a free loopback port for mediad's ObjectStorage tests.

Prints one JSON line describing the server, then waits until standard input closes
(the test process ended or closed the pipe) and stops everything it started. That
way a crashed test run never leaves a server behind.

  --auth    verify SigV4: the first requests create an IAM user, access key and
            policy (INITIAL_NO_AUTH_ACTION_COUNT); every later request is checked.
  --proxy   also start the fault-injecting proxy (fault_proxy.py) in front of it.

Needs: python3 with `moto[server]` (pulls in boto3/botocore).
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# IAM calls made before verification starts: CreateUser, CreateAccessKey,
# CreatePolicy, AttachUserPolicy.
SETUP_ACTIONS = 4
REGION = "us-east-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"moto server exited early with status {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"moto server did not listen on port {port} within {timeout}s")


def server_command(port):
    exe = shutil.which("moto_server")
    if exe:
        return [exe, "-H", "127.0.0.1", "-p", str(port)]
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


def create_iam_user(endpoint):
    import boto3  # moto[server] depends on it

    iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION,
                       aws_access_key_id="setup", aws_secret_access_key="setup")
    iam.create_user(UserName="mediad")
    key = iam.create_access_key(UserName="mediad")["AccessKey"]
    policy = iam.create_policy(
        PolicyName="mediad-all",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    iam.attach_user_policy(UserName="mediad", PolicyArn=policy["Policy"]["Arn"])
    return key["AccessKeyId"], key["SecretAccessKey"], policy["Policy"]["Arn"]


def assume_role(endpoint, access_key, secret_key, policy_arn):
    """Temporary credentials with a session token (verified by moto like AWS does)."""
    import boto3

    auth = dict(endpoint_url=endpoint, region_name=REGION,
                aws_access_key_id=access_key, aws_secret_access_key=secret_key)
    iam = boto3.client("iam", **auth)
    role = iam.create_role(RoleName="mediad-role", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}))
    iam.attach_role_policy(RoleName="mediad-role", PolicyArn=policy_arn)
    sts = boto3.client("sts", **auth)
    creds = sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="mediad-tests")["Credentials"]
    return creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--auth", action="store_true")
    parser.add_argument("--proxy", action="store_true")
    args = parser.parse_args()

    port = free_port()
    env = dict(os.environ)
    if args.auth:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(SETUP_ACTIONS)
    else:
        env.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)
    server = subprocess.Popen(server_command(port), env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    proxy = None
    try:
        wait_for_port(port, server)
        endpoint = f"http://127.0.0.1:{port}"
        info = {"endpoint": endpoint, "region": REGION, "pid": server.pid,
                "verifiesSignatures": args.auth,
                "accessKeyId": "test", "secretAccessKey": "test"}
        if args.auth:
            access_key, secret_key, policy_arn = create_iam_user(endpoint)
            info["accessKeyId"], info["secretAccessKey"] = access_key, secret_key
            session = assume_role(endpoint, access_key, secret_key, policy_arn)
            info["sessionAccessKeyId"], info["sessionSecretAccessKey"], info["sessionToken"] = session
        if args.proxy:
            import fault_proxy
            proxy = fault_proxy.start("127.0.0.1", 0, "127.0.0.1", port)
            info["proxyEndpoint"] = f"http://127.0.0.1:{proxy.server_address[1]}"
        print(json.dumps(info), flush=True)
        # From here on nobody reads our stderr: keep a full pipe from blocking us.
        sys.stderr = open(os.devnull, "w")
        # Block until the parent closes our stdin (or dies).
        while sys.stdin.buffer.read(65536):
            pass
    finally:
        if proxy is not None:
            proxy.shutdown()
        try:
            os.killpg(server.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    main()
