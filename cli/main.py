"""The `payloops` command.

    payloops dev [--state-dir DIR] [--http-port N] [--grpc-port N] [--show-key]
    payloops serve edge|worker|vault|dashboard [ARGS...]
    payloops serve processor NAME [ARGS...]
    payloops migrate [--state-dir DIR]
    payloops bootstrap --out FILE
    payloops merchants create NAME [--live] [--json] [--state-dir DIR]
    payloops users create --merchant MER --email EMAIL --role ROLE [--password-stdin] [--json]
                          [--state-dir DIR]
    payloops signing-key new
    payloops codec-key new
    payloops vault migrate|rewrap [--batch-size N] [--state-dir DIR]
    payloops vault provision
    payloops vault new-kek ID
    payloops processors add NAME TARGET [--deadline-ms MS] [--tls] [--tls-ca FILE] [--state-dir DIR]
    payloops processors account NAME --credential KEY=VALUE ... [--live] [--state-dir DIR]
    payloops processors list [--json] [--state-dir DIR]
    payloops processor-check TARGET [--credential KEY=VALUE ...] [--deadline-ms MS] [--json]
                             [--only CHECK ...] [--tls] [--tls-ca FILE]
    payloops sandbox fault|ledger NAME ... [--state-dir DIR]

Everything heavy is imported inside the subcommand that needs it, so `payloops --help` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from cli import dev_layout
from cli.state import DEFAULT_STATE_DIR, NoDatabase, database_url

EntryPoint = Callable[[list[str]], object]


def _serve_edge(args: list[str]) -> object:
    from edge.server import main

    main(args)
    return 0


def _serve_worker(args: list[str]) -> object:
    from orchestrator.worker import main

    main(args)
    return 0


def _serve_vault(args: list[str]) -> object:
    from vault.server import main

    main(args)
    return 0


def _serve_dashboard(args: list[str]) -> object:
    from cli.dashboard_server import main

    main(args)
    return 0


def _serve_processor(name: str, args: list[str]) -> object:
    # processors/<name>/server.py with main(argv); the name is checked so it can only pick a
    # module under processors/.
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise SystemExit(f"payloops serve processor: invalid processor name {name!r}")
    try:
        module = importlib.import_module(f"processors.{name}.server")
    except ModuleNotFoundError as error:
        if error.name in (f"processors.{name}", f"processors.{name}.server"):
            raise SystemExit(
                f"payloops serve processor: no processor named {name!r} "
                f"(expected processors/{name}/server.py)"
            ) from None
        raise
    entry: EntryPoint = module.main
    return entry(args)


def _cmd_serve(args: argparse.Namespace, rest: list[str]) -> int:
    if args.component == "edge":
        result = _serve_edge(rest)
    elif args.component == "worker":
        result = _serve_worker(rest)
    elif args.component == "vault":
        result = _serve_vault(rest)
    elif args.component == "dashboard":
        result = _serve_dashboard(rest)
    else:
        result = _serve_processor(args.processor, rest)
    return result if isinstance(result, int) else 0


def _cmd_dev(args: argparse.Namespace) -> int:
    from cli import dev

    return dev.run(
        args.state_dir, args.http_port, args.grpc_port, show_key=args.show_key, otel=args.otel
    )


def _database_url_or_exit(state_dir: str) -> str:
    try:
        return database_url(state_dir)
    except NoDatabase as error:
        print(f"payloops: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def _cmd_migrate(args: argparse.Namespace) -> int:
    url = _database_url_or_exit(args.state_dir)
    from core.db.migrate import upgrade

    try:
        upgrade(url)
    except Exception as error:
        print(f"payloops migrate: error: {_one_line(error)}", file=sys.stderr)
        return 1
    print("database schema is up to date")
    return 0


def _cmd_merchants_create(args: argparse.Namespace) -> int:
    import httpx

    from cli.admin_api import NoApi, admin_client, problem

    try:
        with admin_client(args.state_dir) as api:
            answer = api.post(
                "/v1/merchants", json={"merchant": {"name": args.name}, "live": args.live}
            )
    except NoApi as error:
        print(f"payloops: error: {error}", file=sys.stderr)
        return 2
    except httpx.HTTPError as error:
        print(f"payloops merchants create: error: {_one_line(error)}", file=sys.stderr)
        return 1
    if answer.status_code != 200:
        print(f"payloops merchants create: error: {problem(answer)}", file=sys.stderr)
        return 1
    merchant = answer.json()
    keys = {
        "live_api_key" if key.get("livemode") else "api_key": key["secret"]
        for key in merchant["api_keys"]
    }
    merchant_id = merchant["id"]
    if args.json:
        print(json.dumps({"id": merchant_id, **keys}))
    else:
        print(f"{'id':<14}{merchant_id}")
        for field, key in keys.items():
            print(f"{field:<14}{key}")
        print(
            "The API keys are shown only this once; store them now."
            if len(keys) > 1
            else "The API key is shown only this once; store it now.",
            file=sys.stderr,
        )
    return 0


def _cmd_users_create(args: argparse.Namespace) -> int:
    import httpx

    from cli.admin_api import NoApi, admin_client, problem

    password = _new_password(args.password_stdin)
    if password is None:
        return 2
    try:
        with admin_client(args.state_dir) as api:
            answer = api.post(
                "/v1/users",
                json={
                    "merchant": args.merchant,
                    "user": {"email": args.email, "role": args.role.upper()},
                    "password": password,
                },
            )
    except NoApi as error:
        print(f"payloops: error: {error}", file=sys.stderr)
        return 2
    except httpx.HTTPError as error:
        print(f"payloops users create: error: {_one_line(error)}", file=sys.stderr)
        return 1
    if answer.status_code != 200:
        print(f"payloops users create: error: {problem(answer)}", file=sys.stderr)
        return 1
    user = answer.json()
    shown = {"id": user["id"], "email": user["email"], "role": user["role"].lower()}
    if args.json:
        print(json.dumps({**shown, "merchant": user["merchant"]}))
    else:
        print("  ".join(shown.values()))
    return 0


def _new_password(from_stdin: bool) -> str | None:
    """The password from standard input (one line) or typed at a prompt, twice; never from
    the command line, where other users' `ps` and the shell's history would see it."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("Password: ")
    if getpass.getpass("Password (again): ") != first:
        print("payloops users create: error: the passwords differ", file=sys.stderr)
        return None
    return first


def _cmd_signing_key_new(args: argparse.Namespace) -> int:
    from core.signing_keys import SigningKey, new_key

    key = new_key()
    print(key)
    print(
        f"kid {SigningKey.parse(key).kid}: add it to PAYLOOPS_JWT_SIGNING_KEYS second "
        "everywhere, then move it first (docs/access.md)",
        file=sys.stderr,
    )
    return 0


def _cmd_codec_key_new(args: argparse.Namespace) -> int:
    from core.payload_codec import new_key

    print(new_key())
    print(
        "add it to PAYLOOPS_TEMPORAL_CODEC_KEYS second on every edge and worker, then move it "
        "first (docs/architecture.md)",
        file=sys.stderr,
    )
    return 0


def _vault_env(state_dir: str) -> dict[str, str]:
    """The vault's settings: the environment's, else those `payloops dev` keeps (its database
    URL in dev.env, its keys in the state dir)."""
    from cli.state import StatePaths, read_env
    from vault import config

    paths = StatePaths.at(state_dir)
    kept = read_env(paths.dev_env) if paths.dev_env.is_file() else {}
    for variable, path in (
        (config.KEKS_VAR, paths.vault_keks),
        (config.FINGERPRINT_KEY_VAR, paths.vault_fingerprint_key),
    ):
        if path.is_file():
            kept[variable] = path.read_text().strip()
    return {**kept, **os.environ}


def _cmd_vault(args: argparse.Namespace) -> int:
    if args.vault_command == "new-kek":
        from vault.crypto import KeyConfigError, new_kek, parse_keks

        try:
            made = new_kek(args.id)
            parse_keks(made)
        except KeyConfigError as error:
            print(f"payloops vault new-kek: error: {error}", file=sys.stderr)
            return 2
        print(made)
        print(
            "put it FIRST in PAYLOOPS_VAULT_KEKS (keep the old ones after it), restart the "
            "vault, then run `payloops vault rewrap` (docs/vault.md)",
            file=sys.stderr,
        )
        return 0
    if args.vault_command == "provision":
        return _vault_provision()
    from vault.config import VaultSettings

    settings = VaultSettings.from_env(_vault_env(args.state_dir))
    if args.vault_command == "migrate":
        from vault.db.migrate import upgrade

        try:
            upgrade(settings.database_url)
        except Exception as error:
            print(f"payloops vault migrate: error: {_one_line(error)}", file=sys.stderr)
            return 1
        print("vault schema is up to date")
        return 0
    from vault.rewrap import rewrap_all

    total = rewrap_all(
        settings, args.batch_size, lambda done: print(f"re-wrapped {done}", flush=True)
    )
    print(f"done: {total} records re-wrapped under KEK {settings.keks[0].id!r}")
    return 0


def _vault_provision() -> int:
    """What `payloops dev` does for the vault's database on its own PostgreSQL, for a
    deployment's migrate job."""
    from sqlalchemy.engine import make_url

    from vault import config
    from vault.db.migrate import upgrade
    from vault.db.provision import provision

    admin_url = os.environ.get("PAYLOOPS_DATABASE_URL", "")
    vault_url = os.environ.get(config.DATABASE_URL_VAR, "")
    if not admin_url or not vault_url:
        print(
            "payloops vault provision: error: set PAYLOOPS_DATABASE_URL and "
            f"{config.DATABASE_URL_VAR}",
            file=sys.stderr,
        )
        return 2
    parsed = make_url(vault_url)
    try:
        provision(admin_url, parsed.password or "", parsed.username or "")
        upgrade(vault_url)
    except Exception as error:
        print(f"payloops vault provision: error: {_one_line(error)}", file=sys.stderr)
        return 1
    print(f"vault role {parsed.username} and schema are up to date")
    return 0


def _cmd_processors_add(args: argparse.Namespace) -> int:
    from core.processors.registry import deadline_problem, name_problem, target_problem

    deadline_ms = None
    problems = [name_problem(args.name), target_problem(args.target)]
    if args.deadline_ms is not None:
        # Parsed here rather than by argparse, whose errors take two lines and a usage.
        if re.fullmatch(r"[0-9]{1,9}", args.deadline_ms):
            deadline_ms = int(args.deadline_ms)
            problems.append(deadline_problem(deadline_ms))
        else:
            problems.append(
                f"--deadline-ms must be a whole number of milliseconds (got {args.deadline_ms!r})"
            )
    tls_ca_pem = ""
    if args.tls_ca is not None:
        try:
            tls_ca_pem = Path(args.tls_ca).read_text()
        except OSError as error:
            problems.append(f"--tls-ca: {_one_line(error)}")
    if any(problems):
        print(
            f"payloops processors add: error: {'; '.join(p for p in problems if p)}",
            file=sys.stderr,
        )
        return 2
    url = _database_url_or_exit(args.state_dir)
    import grpc

    from cli.dev_db import add_processor

    try:
        added = add_processor(
            url,
            args.name,
            args.target,
            deadline_ms,
            tls=args.tls or bool(tls_ca_pem),
            tls_ca_pem=tls_ca_pem,
        )
    except grpc.aio.AioRpcError as error:
        print(
            f"payloops processors add: error: {args.target} does not answer GetCapabilities "
            f"({error.code().name}: {_one_line(error.details() or '')}); is the adapter "
            "running there?",
            file=sys.stderr,
        )
        return 2
    except Exception as error:
        print(
            f"payloops processors add: error: {_one_line(error)} "
            "(is the database up? `payloops dev` runs one)",
            file=sys.stderr,
        )
        return 1
    print(
        f"{added.name}  {added.target}  deadline {added.deadline_ms} ms"
        + ("" if added.enabled else "  (disabled)")
    )
    return 0


def _cmd_processors_account(args: argparse.Namespace) -> int:
    values = dict(entry.partition("=")[::2] for entry in args.credential)
    if any("=" not in entry or not entry.partition("=")[0] for entry in args.credential):
        print("payloops processors account: error: --credential takes KEY=VALUE", file=sys.stderr)
        return 2
    url = _database_url_or_exit(args.state_dir)
    keys = _secrets_keys(args.state_dir)
    from cli.dev_db import set_platform_account

    try:
        account_id = set_platform_account(url, keys, args.name, args.live, values)
    except Exception as error:
        print(f"payloops processors account: error: {_one_line(error)}", file=sys.stderr)
        return 2
    # Field names only: the values are secrets.
    print(
        f"{account_id}  {args.name}  {'live' if args.live else 'test'}  "
        f"fields {', '.join(sorted(values))}"
    )
    return 0


def _secrets_keys(state_dir: str) -> tuple[str, ...]:
    from cli.state import StatePaths

    given = os.environ.get("PAYLOOPS_SECRETS_KEYS", "")
    if not given and StatePaths.at(state_dir).secrets_keys.is_file():
        given = StatePaths.at(state_dir).secrets_keys.read_text()
    return tuple(key.strip() for key in given.split(",") if key.strip())


def _cmd_processors_list(args: argparse.Namespace) -> int:
    url = _database_url_or_exit(args.state_dir)
    from cli.dev_db import list_processors

    try:
        listed = list_processors(url)
    except Exception as error:
        print(
            f"payloops processors list: error: {_one_line(error)} "
            "(is the database up? `payloops dev` runs one)",
            file=sys.stderr,
        )
        return 1
    rows = [
        {"name": p.name, "target": p.target, "deadline_ms": p.deadline_ms, "enabled": p.enabled}
        for p in listed
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    table = [("NAME", "TARGET", "DEADLINE_MS", "ENABLED")] + [
        (str(r["name"]), str(r["target"]), str(r["deadline_ms"]), "yes" if r["enabled"] else "no")
        for r in rows
    ]
    # Every column but the last padded to its widest cell.
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    for row in table:
        print(
            "  ".join(
                [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)] + [row[3]]
            )
        )
    return 0


def _cmd_sandbox(args: argparse.Namespace) -> int:
    import grpc

    from cli import sandbox_commands

    try:
        sandbox = sandbox_commands.control(args.state_dir, args.name)
        if args.sandbox_command == "fault":
            sandbox_commands.set_fault(sandbox, args.mode, args.count, args.latency_ms)
            print(
                f"{args.name}: fault {args.mode}"
                + (f" for {args.count} calls" if args.count else "")
            )
        else:
            sandbox_commands.print_ledger(sandbox_commands.ledger(sandbox), args.json)
    except (sandbox_commands.SandboxNotFound, grpc.RpcError) as error:
        print(f"payloops sandbox: error: {_one_line(error)}", file=sys.stderr)
        return 2
    return 0


def _cmd_processor_check(args: argparse.Namespace) -> int:
    from cli import processor_check

    return processor_check.main(
        args.target, args.credential, args.deadline_ms, args.json, args.only, args.tls, args.tls_ca
    )


def _one_line(error: BaseException | str) -> str:
    text = " ".join(str(error).split())
    if text:
        return text
    return "no details" if isinstance(error, str) else type(error).__name__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="payloops", description="PayLoops payment orchestration: run and operate the mesh."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from_state = argparse.ArgumentParser(add_help=False)
    from_state.add_argument(
        "--state-dir",
        default=str(DEFAULT_STATE_DIR),
        help="read PAYLOOPS_DATABASE_URL from DIR/dev.env when it is not set (default: .payloops)",
    )

    dev = commands.add_parser(
        "dev",
        help="run the whole mesh locally (PostgreSQL, Temporal, Envoy, edge, worker, "
        "sandbox) until Ctrl-C",
        description="Run the whole mesh locally until Ctrl-C; data stays in the state dir "
        "across restarts.",
        epilog=dev_layout.ports_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dev.add_argument(
        "--state-dir",
        default=str(DEFAULT_STATE_DIR),
        help="where data, secrets, logs and pid files live (default: .payloops)",
    )
    dev.add_argument(
        "--http-port",
        type=int,
        default=dev_layout.HTTP_PORT,
        help=f"public REST/JSON port (default: {dev_layout.HTTP_PORT})",
    )
    dev.add_argument(
        "--grpc-port",
        type=int,
        default=dev_layout.GRPC_PORT,
        help=f"public native gRPC port (default: {dev_layout.GRPC_PORT})",
    )
    dev.add_argument(
        "--show-key",
        action="store_true",
        help="print the demo merchant's API key when ready (default: only where it is, "
        "<state-dir>/dev.env)",
    )
    dev.add_argument(
        "--otel",
        metavar="URL",
        default="",
        help="send every service's traces, metrics and logs over OTLP to the OpenTelemetry "
        "collector at URL (e.g. http://127.0.0.1:4317; sets the OTEL_* variables)",
    )

    serve = commands.add_parser(
        "serve", help="run one component in the foreground (what containers run)"
    )
    components = serve.add_subparsers(dest="component", required=True, metavar="COMPONENT")
    # add_help=False: `payloops serve edge --help` is passed on to the component's own parser.
    components.add_parser("edge", add_help=False, help="the public gRPC API (args: --port N)")
    components.add_parser(
        "worker", add_help=False, help="the Temporal worker (args: --ready-file PATH)"
    )
    components.add_parser(
        "vault", add_help=False, help="the card vault, gRPC (args: --port N --host H)"
    )
    components.add_parser(
        "dashboard",
        add_help=False,
        help="the dashboard's built files over HTTP, for containers (args: --port --host --build)",
    )
    processor = components.add_parser(
        "processor",
        add_help=False,
        help="a processor adapter, e.g. `sandbox` (args: --name --port --http-port --ledger)",
    )
    processor.add_argument("processor", metavar="NAME")

    commands.add_parser(
        "migrate", parents=[from_state], help="bring the database schema to the newest migration"
    )
    bootstrap = commands.add_parser(
        "bootstrap",
        help="register processors and make the first merchant and owner (a deployment's "
        "one-shot job; docs/deploy.md)",
    )
    bootstrap.add_argument(
        "--out",
        type=Path,
        required=True,
        help="where the first merchant's id and API key are written (owner-only)",
    )

    merchants = commands.add_parser("merchants", help="manage merchants")
    merchant_commands = merchants.add_subparsers(
        dest="merchants_command", required=True, metavar="ACTION"
    )
    create = merchant_commands.add_parser(
        "create",
        parents=[from_state],
        help="create a merchant and print its API key(s) once, through the admin API "
        "(PAYLOOPS_API_URL and PAYLOOPS_ADMIN_API_KEY, else those in DIR/dev.env)",
    )
    create.add_argument("name")
    create.add_argument(
        "--live",
        action="store_true",
        help="also create a live API key (sk_live_…): live payments, live routing, live "
        "accounts; never the test mode's data",
    )
    create.add_argument(
        "--json",
        action="store_true",
        help='print {"id": ..., "api_key": ...} (and "live_api_key" with --live)',
    )

    users = commands.add_parser("users", help="manage a merchant's dashboard users")
    user_commands = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    create_user = user_commands.add_parser(
        "create",
        parents=[from_state],
        help="create a user of a merchant (its first owner, say) through the admin API "
        "(PAYLOOPS_API_URL and PAYLOOPS_ADMIN_API_KEY, else those in DIR/dev.env)",
    )
    create_user.add_argument("--merchant", required=True, metavar="MER", help="mer_…")
    create_user.add_argument("--email", required=True, help="the address the user signs in with")
    create_user.add_argument(
        "--role", required=True, choices=["owner", "developer", "viewer"], help="what they may do"
    )
    create_user.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input (default: prompt); "
        "it is never taken on the command line",
    )
    create_user.add_argument("--json", action="store_true", help="print the user as JSON")

    signing_key = commands.add_parser(
        "signing-key", help="keys that sign the dashboard's access tokens"
    )
    signing_key_commands = signing_key.add_subparsers(
        dest="signing_key_command", required=True, metavar="ACTION"
    )
    signing_key_commands.add_parser(
        "new",
        help="print a new Ed25519 signing key for PAYLOOPS_JWT_SIGNING_KEYS (rotation: "
        "docs/access.md)",
    )

    codec_key = commands.add_parser("codec-key", help="keys that encrypt Temporal payloads")
    codec_key.add_subparsers(dest="codec_key_command", required=True, metavar="ACTION").add_parser(
        "new",
        help="print a new AES-256 key (ID:KEY) for PAYLOOPS_TEMPORAL_CODEC_KEYS (rotation: "
        "docs/architecture.md)",
    )

    vault = commands.add_parser("vault", help="operate the card vault (docs/vault.md)")
    vault_commands = vault.add_subparsers(dest="vault_command", required=True, metavar="ACTION")
    vault_commands.add_parser(
        "migrate", parents=[from_state], help="bring the vault's own schema to its newest migration"
    )
    vault_commands.add_parser(
        "provision",
        help="make the vault's role and schema (PAYLOOPS_VAULT_DATABASE_URL's role and "
        "password) with PAYLOOPS_DATABASE_URL's administrative role, then migrate them",
    )
    rewrap = vault_commands.add_parser(
        "rewrap",
        parents=[from_state],
        help="re-wrap every card record still under an older KEK with the first one "
        "(PAYLOOPS_VAULT_KEKS), in batches, while the vault serves",
    )
    rewrap.add_argument(
        "--batch-size", type=int, default=100, help="records per transaction (default: 100)"
    )
    new_kek = vault_commands.add_parser(
        "new-kek", help="print a new key-encryption key for PAYLOOPS_VAULT_KEKS"
    )
    new_kek.add_argument("id", help="its id, stored beside every key it wraps (e.g. 2025-06)")

    processors = commands.add_parser(
        "processors", help="manage processor registrations: where each listens, its deadline"
    )
    processor_commands = processors.add_subparsers(
        dest="processors_command", required=True, metavar="ACTION"
    )
    add = processor_commands.add_parser(
        "add",
        parents=[from_state],
        help="register a processor, or change its target (and deadline); applies to the next "
        "payment",
    )
    add.add_argument("name", help="processor name, as routing rules name it")
    add.add_argument("target", help="host:port of its gRPC server")
    # A string, checked by the command: one clear line on bad input (see _cmd_processors_add).
    add.add_argument(
        "--deadline-ms",
        metavar="MS",
        help="how long one call may take, 50..120000 (a new processor gets 5000; an existing "
        "one keeps its own unless given)",
    )
    add.add_argument(
        "--tls",
        action="store_true",
        help="connect with TLS, trusting the system's certificate authorities",
    )
    add.add_argument(
        "--tls-ca",
        metavar="FILE",
        help="connect with TLS, trusting the CA certificate(s) in this PEM file",
    )
    account = processor_commands.add_parser(
        "account",
        parents=[from_state],
        help="set the platform's own account at a processor: used for merchants without one, "
        "and to verify webhooks posted to /v1/processor_webhooks/NAME",
    )
    account.add_argument("name", help="processor name")
    account.add_argument(
        "--credential",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        required=True,
        help="a credentials entry, such as secret_key=sk_test_…",
    )
    account.add_argument("--live", action="store_true", help="live credentials (default: test)")
    listed = processor_commands.add_parser(
        "list", parents=[from_state], help="registered processors: target, deadline, enabled"
    )
    listed.add_argument("--json", action="store_true", help="as a JSON array")

    check = commands.add_parser(
        "processor-check",
        help="check that a Processor gRPC server honours the contract (docs/processors.md)",
    )
    check.add_argument("target", help="host:port of the Processor server")
    check.add_argument(
        "--credential",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a Credentials.values entry sent on every call (test mode), such as "
        "secret_key=sk_test_…; repeat for each field GetCapabilities lists",
    )
    # A string, checked by the command: one clear line on bad input.
    check.add_argument(
        "--deadline-ms", metavar="MS", help="deadline of each call, 50..120000 (default: 5000)"
    )
    check.add_argument("--json", action="store_true", help="print the results as JSON")
    check.add_argument(
        "--only",
        action="extend",
        nargs="+",
        default=[],
        metavar="CHECK",
        help="run only these checks, by name or area (e.g. refund)",
    )
    check.add_argument(
        "--tls", action="store_true", help="connect with TLS, trusting the system's CA certificates"
    )
    check.add_argument(
        "--tls-ca",
        metavar="FILE",
        help="connect with TLS, trusting the PEM CA certificate(s) in FILE",
    )

    sandbox = commands.add_parser("sandbox", help="drive the sandbox gateways of `payloops dev`")
    sandbox_commands = sandbox.add_subparsers(
        dest="sandbox_command", required=True, metavar="ACTION"
    )
    fault = sandbox_commands.add_parser(
        "fault", parents=[from_state], help="switch a fault on (or off with `clear`)"
    )
    fault.add_argument("name", help="sandbox instance: sandbox, sandbox-b, sandbox-c")
    fault.add_argument(
        "mode", choices=["hang", "unavailable", "error_after_charge", "latency", "clear"]
    )
    fault.add_argument("--count", type=int, default=0, help="next N calls only (default: all)")
    fault.add_argument("--latency-ms", type=int, default=0, help="added latency for `latency`")
    ledger = sandbox_commands.add_parser(
        "ledger", parents=[from_state], help="print the charges a sandbox made"
    )
    ledger.add_argument("name")
    ledger.add_argument("--json", action="store_true", help="as a JSON array")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # Only `serve` takes arguments meant for someone else.
    if argv[:1] == ["serve"]:
        args, rest = parser.parse_known_args(argv)
    else:
        args, rest = parser.parse_args(argv), []

    if args.command == "serve":
        code = _cmd_serve(args, rest)
    elif args.command == "dev":
        code = _cmd_dev(args)
    elif args.command == "migrate":
        code = _cmd_migrate(args)
    elif args.command == "bootstrap":
        from cli import bootstrap

        code = bootstrap.main(args.out)
    elif args.command == "sandbox":
        code = _cmd_sandbox(args)
    elif args.command == "processor-check":
        code = _cmd_processor_check(args)
    elif args.command == "users":
        code = _cmd_users_create(args)
    elif args.command == "signing-key":
        code = _cmd_signing_key_new(args)
    elif args.command == "codec-key":
        code = _cmd_codec_key_new(args)
    elif args.command == "vault":
        code = _cmd_vault(args)
    elif args.command == "processors":
        code = {
            "add": _cmd_processors_add,
            "list": _cmd_processors_list,
            "account": _cmd_processors_account,
        }[args.processors_command](args)
    else:
        code = _cmd_merchants_create(args)
    raise SystemExit(code)


if __name__ == "__main__":
    main()
