"""Where the operator commands connect: flags, then the deployment's settings from the environment
(read by `imagedrop.config.read_env`, as the functions read them), then defaults.

Credentials come from the standard Alibaba Cloud chain (`alibabacloud-credentials`: the
ALIBABA_CLOUD_* environment variables, `~/.aliyun/config.json` profiles, an ECS instance role…).
`--local` means the `imagedrop local up` stack: its endpoints JSON from IMAGEDROP_LOCAL (the JSON
itself or a file holding it) or `.imagedrop-local/stack.json` in the current folder.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from imagedrop.cloud.credentials import Credentials
from imagedrop.config import as_folder, read_credentials, read_env
from .exit_codes import BAD_INPUT, CLOUD_ERROR, OpsError

LOCAL_STACK_FILE = Path(".imagedrop-local") / "stack.json"
DEFAULT_REGION = "cn-hangzhou"


@dataclass(frozen=True)
class ConnectionOptions:
    """What the user gave on the command line (None: not given)."""

    local: bool = False
    endpoint: str | None = None
    bucket: str | None = None
    region: str | None = None
    account_id: str | None = None


@dataclass(frozen=True)
class Connection:
    region: str
    bucket: str
    oss_endpoint: str
    credentials: Credentials
    account_id: str | None = None
    ecs_endpoint: str | None = None
    mns_endpoint: str | None = None
    fc_endpoint: str | None = None
    queue: str | None = None
    topic: str | None = None
    watch_prefix: str = "incoming/"
    state_prefix: str = "imagedrop/"
    local: bool = False
    local_source: str = ""         # where the local stack's endpoints came from, for messages

    def check_local_stack(self) -> None:
        """For --local: one loopback connect, so a stopped `local up` is named as such."""
        from urllib.parse import urlsplit

        if not self.local:
            return
        url = urlsplit(self.oss_endpoint)
        try:
            socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=2).close()
        except OSError:
            raise OpsError(f"--local: the local stack in {self.local_source or 'IMAGEDROP_LOCAL'} is not running "
                           f"(nothing answers at {self.oss_endpoint}); start `imagedrop local up` in this "
                           "folder and keep it running", CLOUD_ERROR) from None

    def oss_bucket(self, *, pool_size: int | None = None) -> Any:
        import oss2

        self.check_local_stack()
        if not oss2.is_valid_bucket_name(self.bucket):
            raise OpsError(f"bucket {self.bucket!r}: not an OSS bucket name (3-63 lowercase letters, digits "
                           "and '-', starting with a letter or digit); check the name", BAD_INPUT)
        if pool_size:
            oss2.defaults.connection_pool_size = max(oss2.defaults.connection_pool_size, pool_size)
        creds = self.credentials
        auth = (oss2.StsAuth(creds.access_key_id, creds.access_key_secret, creds.security_token)
                if creds.security_token else oss2.Auth(creds.access_key_id, creds.access_key_secret))
        return oss2.Bucket(auth, self.oss_endpoint, self.bucket, connect_timeout=10, enable_crc=True)


def load_local_info(env: Mapping[str, str], cwd: Path) -> dict[str, Any]:
    """The endpoints JSON `imagedrop local up` printed, from IMAGEDROP_LOCAL or the stack file."""
    raw = env.get("IMAGEDROP_LOCAL", "").strip()
    where = "IMAGEDROP_LOCAL"
    if raw and not raw.startswith("{"):
        where = raw
        try:
            raw = Path(raw).read_text()
        except OSError as exc:
            raise OpsError(f"IMAGEDROP_LOCAL: cannot read {raw!r} ({exc.strerror}); set it to the first line "
                           "`imagedrop local up` prints, or to a file holding it", BAD_INPUT) from None
    elif not raw:
        path = cwd / LOCAL_STACK_FILE
        if not path.is_file():
            raise OpsError(f"--local: no local stack found ({LOCAL_STACK_FILE} is missing and IMAGEDROP_LOCAL "
                           "is not set); run `imagedrop local up` in this folder first", BAD_INPUT)
        where, raw = str(path), path.read_text()
    try:
        info = json.loads(raw.splitlines()[0] if raw.strip() else "")
    except (ValueError, IndexError):
        raise OpsError(f"{where}: not the endpoints JSON `imagedrop local up` prints on its first line",
                       BAD_INPUT) from None
    missing = [k for k in ("oss", "bucket", "region", "access_key_id", "access_key_secret") if not info.get(k)]
    if missing:
        raise OpsError(f"{where}: the local stack JSON lacks {', '.join(missing)}; restart `imagedrop local up`",
                       BAD_INPUT)
    return info


def chain_credentials(env: Mapping[str, str] | None = None) -> Credentials:
    """Credentials from the default Alibaba Cloud chain, or an error saying how to provide them.

    The chain's first link (the ALIBABA_CLOUD_* variables) is read here from the live environment:
    the library snapshots the environment when it is first imported.
    """
    ak, sk, token = read_credentials(os.environ if env is None else env)  # as the functions read them
    if ak and sk:
        return Credentials(ak, sk, token)
    from alibabacloud_credentials.provider.default import DefaultCredentialsProvider

    # The chain logs a traceback for every link that fails (the ECS metadata service off ECS…);
    # the one line below says what matters.
    chain_log = logging.getLogger("credentials")
    was_disabled, chain_log.disabled = chain_log.disabled, True
    try:
        found = DefaultCredentialsProvider().get_credentials()
    except Exception as exc:  # the chain reports every provider it tried in one exception
        tried = sorted(set(re.findall(r"(\w+?)CredentialsProvider", str(exc))))
        raise OpsError("no Alibaba Cloud credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and "
                       "ALIBABA_CLOUD_ACCESS_KEY_SECRET, or configure a profile in ~/.aliyun/config.json "
                       "(aliyun configure); or use --local for the `imagedrop local up` stack"
                       + (f" (tried: {', '.join(tried)})" if tried else ""), CLOUD_ERROR) from None
    finally:
        chain_log.disabled = was_disabled
    return Credentials(found.get_access_key_id(), found.get_access_key_secret(),
                       found.get_security_token() or None)


def _first(*values: str | None) -> str | None:
    return next((v for v in values if v), None)


def resolve(opts: ConnectionOptions, env: Mapping[str, str] | None = None,
            cwd: Path | None = None) -> Connection:
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    settings = read_env(env)  # the deployment's settings, read as the functions read them
    watch = as_folder(settings.get("watch_prefix") or "incoming/")
    state = as_folder(settings.get("state_prefix") or "imagedrop/")
    if opts.local or env.get("IMAGEDROP_LOCAL"):
        info = load_local_info(env, cwd)
        raw = env.get("IMAGEDROP_LOCAL", "").strip()
        source = ("IMAGEDROP_LOCAL" if raw.startswith("{") else raw) if raw else str(LOCAL_STACK_FILE)
        return Connection(region=info["region"], bucket=opts.bucket or info["bucket"],
                          oss_endpoint=info["oss"],
                          credentials=Credentials(info["access_key_id"], info["access_key_secret"]),
                          account_id=info.get("account_id"), ecs_endpoint=info.get("ecs"),
                          mns_endpoint=info.get("mns"), fc_endpoint=info.get("fc") or None,
                          queue=info.get("queue"), topic=info.get("topic"),
                          watch_prefix=watch, state_prefix=state, local=True, local_source=source)
    region = _first(opts.region, settings.get("region"),
                    env.get("ALIBABA_CLOUD_REGION_ID")) or DEFAULT_REGION
    bucket = _first(opts.bucket, env.get("IMAGEDROP_BUCKET"))  # the CLI's own: FC has its trigger
    if not bucket:
        raise OpsError("--bucket: which OSS bucket? pass --bucket NAME or set IMAGEDROP_BUCKET "
                       "(or --local for the `imagedrop local up` stack)", BAD_INPUT)
    account = _first(opts.account_id, settings.get("account_id"))
    mns = settings.get("mns_endpoint") or (
        f"https://{account}.mns.{region}.aliyuncs.com" if account else None)
    fc = env.get("IMAGEDROP_FC_ENDPOINT") or (f"https://{account}.{region}.fc.aliyuncs.com" if account else None)
    return Connection(region=region, bucket=bucket,
                      oss_endpoint=_first(opts.endpoint, settings.get("oss_endpoint"))
                      or f"https://oss-{region}.aliyuncs.com",
                      credentials=chain_credentials(env), account_id=account,
                      ecs_endpoint=settings.get("ecs_endpoint"), mns_endpoint=mns, fc_endpoint=fc,
                      queue=settings.get("queue"), topic=settings.get("topic"),
                      watch_prefix=watch, state_prefix=state)
