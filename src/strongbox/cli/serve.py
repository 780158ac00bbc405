"""`strongbox serve`: the API, the workers, the reaper and the scheduler in one process."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        config: Optional[Path] = typer.Option(None, "--config", "-c", help="TOML config file."),
        data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Data folder (database, vaults, keys)."),
        host: Optional[str] = typer.Option(None, "--host", help="Address to listen on."),
        port: Optional[int] = typer.Option(None, "--port", help="Port to listen on."),
        http: bool = typer.Option(False, "--http", help="Serve plain HTTP instead of HTTPS."),
        virtual_clock: bool = typer.Option(
            False, "--virtual-clock",
            help="Serve a clock an Owner can move forward (POST /admin/clock), to test schedules and "
                 "retention in seconds. Never in production."),
    ) -> None:
        """Run the API, workers and scheduler in one process."""
        import uvicorn

        from strongbox.bootstrap import build_service
        from strongbox.certs import check_operator_tls, ensure_tls
        from strongbox.config import load_settings
        from strongbox.datalock import hold_for_serving
        from strongbox.demo import ensure_demo
        from strongbox.runtime import settle_after_startup

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("alembic").setLevel(logging.WARNING)   # schema upgrades need not narrate
        settings = load_settings(config, data_dir=data_dir, host=host, port=port, tls=False if http else None,
                                 virtual_clock=True if virtual_clock else None)
        if settings.is_demo:
            ensure_demo(settings.data_dir)
        hold_for_serving(settings.data_dir)   # a shared flock until exit: `strongbox key rotate` refuses meanwhile
        service = build_service(settings)
        server = settings.server
        ssl: dict[str, str] = {}
        scheme = "http"
        if server.tls and server.tls_cert is not None and server.tls_key is not None:
            check_operator_tls(server.tls_cert, server.tls_key)
            ssl = {"ssl_certfile": str(server.tls_cert), "ssl_keyfile": str(server.tls_key)}
            scheme = "https"
            typer.echo(f"TLS certificate (the operator's): {server.tls_cert}")
        elif server.tls:
            files = ensure_tls(settings.tls_dir, [server.host, socket.gethostname()])
            ssl = {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}
            scheme = "https"
            typer.echo(f"TLS certificate authority (trust this in clients): {files.ca_cert}")
        typer.echo(f"data folder: {settings.data_dir}")
        if settings.is_demo:
            typer.echo("no config given: serving the demo source 'demo-vm' "
                       "(subscription 00000000-0000-0000-0000-000000000000, resource group demo-rg)")
        if server.virtual_clock:
            typer.echo(f"virtual clock: {service.ctx.clock().isoformat()} (move it with POST /admin/clock)")
        typer.echo(f"strongbox listening on {scheme}://{server.host}:{server.port}", )
        typer.echo(f"dashboard: {scheme}://{server.host}:{server.port}/dashboard/ (sign in with a token from "
                   "`strongbox token issue`)")
        settle_after_startup()
        service.start_background()
        try:
            uvicorn.run(service.arm.asgi(), host=server.host, port=server.port, log_level="warning",
                        access_log=False, timeout_graceful_shutdown=3, **ssl)  # type: ignore[arg-type]
        finally:
            service.stop()
