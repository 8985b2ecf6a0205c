"""`imagedrop routes check | put | show` and `imagedrop subscribe`: teams' own notifications."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from .app import app
from .ops_cmds import AsJson, Bucket, Endpoint, Local, Region, _connect, _emit_json, _guard, out
from .ops import exit_codes as codes
from .ops.exit_codes import OpsError

routes_app = typer.Typer(help="The routes file: which team's channels hear of which folder's imports.",
                         no_args_is_help=True)
app.add_typer(routes_app, name="routes")


def _summary(routes: object) -> None:
    from imagedrop.notify import Routes

    assert isinstance(routes, Routes)
    for route in routes.routes:
        channels = [channel.kind for channel in route.channels()]
        out.print(f"{escape(route.name)}: {escape(route.prefix)}* → {', '.join(channels) or 'MNS tag only'} "
                  f"({', '.join(route.states)})")


@routes_app.command("check")
def check_cmd(file: Path = typer.Argument(..., help="The routes JSON file.")) -> None:
    """Check a routes file: every field, the rules, and no two routes alike."""
    from .ops.routes_ops import read_file

    def body() -> int:
        routes = read_file(file)
        _summary(routes)
        out.print(f"{escape(str(file))}: {len(routes.routes)} route(s), valid")
        return codes.OK
    _guard("routes check", body)


@routes_app.command("put")
def put_cmd(file: Path = typer.Argument(..., help="The routes JSON file."),
            local: bool = Local, endpoint: Optional[str] = Endpoint, bucket: Optional[str] = Bucket,
            region: Optional[str] = Region) -> None:
    """Check a routes file and upload it to `<state prefix>routes.json`; the functions use it
    from their next invocation."""
    from .ops.routes_ops import put_routes, read_file

    def body() -> int:
        routes = read_file(file)
        where = put_routes(_connect(local, endpoint, bucket, region), routes)
        _summary(routes)
        out.print(f"uploaded to {escape(where)}")
        return codes.OK
    _guard("routes put", body)


@routes_app.command("show")
def show_cmd(local: bool = Local, endpoint: Optional[str] = Endpoint, bucket: Optional[str] = Bucket,
             region: Optional[str] = Region, as_json: bool = AsJson) -> None:
    """Show the deployment's routes, URLs and secrets redacted."""
    from .ops.routes_ops import get_routes, routes_key, shown

    def body() -> int:
        conn = _connect(local, endpoint, bucket, region)
        routes = get_routes(conn)
        if routes is None:
            raise OpsError(f"no routes file at oss://{conn.bucket}/{routes_key(conn)}; write one and "
                           "upload it with `imagedrop routes put FILE`", codes.BAD_INPUT)
        if as_json:
            _emit_json(shown(routes))
        else:
            import json

            out.print(json.dumps(shown(routes), indent=2, ensure_ascii=False), markup=False)
        return codes.OK
    _guard("routes show", body)


@app.command("subscribe")
def subscribe_cmd(
    route: str = typer.Argument(..., help="The route whose events the endpoint gets (its name)."),
    to: str = typer.Option(..., "--endpoint", help="Where MNS pushes: an http(s) URL, or "
                           "acs:mns:<region>:<account>:queues/<queue>."),
    name: Optional[str] = typer.Option(None, "--name", help="The subscription's name (default imagedrop-ROUTE)."),
    topic: Optional[str] = typer.Option(None, "--topic", envvar="IMAGEDROP_TOPIC", help="The deployment's topic."),
    local: bool = Local, bucket: Optional[str] = Bucket, region: Optional[str] = Region,
) -> None:
    """Subscribe an endpoint to one route's events on the topic (FilterTag = the route,
    NotifyContentFormat=SIMPLIFIED: each body is the CloudEvent itself)."""
    from .ops.routes_ops import get_routes, subscribe, subscription_name

    def body() -> int:
        conn = _connect(local, None, bucket, region)
        chosen = topic or conn.topic
        if not chosen:
            raise OpsError("--topic: which MNS topic? set IMAGEDROP_TOPIC or pass --topic", codes.BAD_INPUT)
        routes = get_routes(conn)
        names = [r.name for r in routes.routes] if routes else []
        if route not in names:
            raise OpsError(f"route {route!r}: not in the bucket's routes file (routes: "
                           f"{', '.join(names) or 'none'}); add it and run `imagedrop routes put FILE`",
                           codes.BAD_INPUT)
        sub = subscription_name(route, name)
        subscribe(conn, chosen, route, to, sub)
        out.print(f"subscribed {sub} to {chosen}: tag {route}, SIMPLIFIED bodies", markup=False)
        return codes.OK
    _guard("subscribe", body)
