"""Test harness for Orkestra's SDK end-to-end suites.

Starts and stops `orkestra serve` processes on free loopback ports against a fresh
database (SQLite file or a PostgreSQL database created for the session), signs raw
requests the way Craftgate's SDKs do, and talks to the NestPay simulator's `/_sim` admin
endpoints. Nothing here builds the binary: it is taken from `ORKESTRA_BIN` (default
`<repo>/target/debug/orkestra`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import re
import signal
import socket
import string
import subprocess
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import requests

REPO = Path(__file__).resolve().parents[3]
BIN = Path(os.environ.get("ORKESTRA_BIN", str(REPO / "target" / "debug" / "orkestra")))
# A fixed key for tests (never used outside them); ORKESTRA_MASTER_KEY overrides it.
MASTER_KEY = os.environ.get("ORKESTRA_MASTER_KEY") or ("5eed" * 16)
DB_KIND = os.environ.get("ORKESTRA_TEST_DB", "sqlite").strip().lower()
PG_ADMIN_URL = os.environ.get(
    "ORKESTRA_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)

# How long to wait for a binary that another engineer is rebuilding.
BINARY_WAIT_SECS = 300
SERVER_START_SECS = 60

# -------------------------------------------------------------------------------------
# Small utilities
# -------------------------------------------------------------------------------------


def uid(prefix: str = "t") -> str:
    """A short unique string for conversation ids, names, external ids."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def numeric_uid(length: int = 9) -> str:
    """A random numeric id (NestPay ClientIds are digits), never starting with 0."""
    return str(random.randint(1, 9)) + "".join(random.choices(string.digits, k=length - 1))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(
    predicate: Callable[[], Any],
    timeout: float,
    interval: float = 0.25,
    message: str = "condition",
) -> Any:
    """Polls `predicate` until it returns a truthy value; returns that value."""
    deadline = time.monotonic() + timeout
    last_error: Optional[BaseException] = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except AssertionError as e:  # let predicates assert while polling
            last_error = e
        if time.monotonic() >= deadline:
            detail = f" (last: {last_error})" if last_error else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {message}{detail}")
        time.sleep(interval)


def wait_for_binary() -> Path:
    """Waits while the binary is missing (someone may be rebuilding it)."""
    deadline = time.monotonic() + BINARY_WAIT_SECS
    while not (BIN.exists() and os.access(BIN, os.X_OK)):
        if time.monotonic() >= deadline:
            raise RuntimeError(
                f"orkestra binary not found at {BIN}; build it with "
                "`cargo build -p orkestra` or set ORKESTRA_BIN"
            )
        time.sleep(1)
    return BIN


def _spawn(args: List[str], **kwargs) -> subprocess.Popen:
    """Popen that tolerates a binary being replaced under it (ETXTBSY, ENOENT)."""
    deadline = time.monotonic() + BINARY_WAIT_SECS
    while True:
        wait_for_binary()
        try:
            return subprocess.Popen(args, **kwargs)
        except OSError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(1)


def base_env() -> Dict[str, str]:
    env = dict(os.environ)
    env["ORKESTRA_MASTER_KEY"] = MASTER_KEY
    env.setdefault("RUST_LOG", "info,sqlx=warn")
    env["NO_COLOR"] = "1"
    # Never route loopback traffic through a proxy.
    env["NO_PROXY"] = "127.0.0.1,localhost"
    return env


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# -------------------------------------------------------------------------------------
# Databases
# -------------------------------------------------------------------------------------


# Card numbers found at rest (database files, dumps, server logs) at the end of the run.
AT_REST_FINDINGS: List[str] = []
DATABASES: List["Database"] = []


def find_sent_pans(data: bytes, where: str) -> List[str]:
    """Every card number the tests sent that appears in `data` in clear."""
    return [f"{where}: {pan}" for pan in sorted(SENT_PANS) if pan.encode() in data]


class Database:
    """A fresh database for one server (or one group of servers sharing it)."""

    def __init__(self, kind: str, workdir: Path):
        self.kind = kind
        self.workdir = workdir
        self.name: Optional[str] = None
        self.scanned = False
        DATABASES.append(self)
        if kind == "sqlite":
            workdir.mkdir(parents=True, exist_ok=True)
            self.url = f"sqlite://{workdir / 'orkestra.db'}"
        elif kind in ("postgres", "postgresql", "pg"):
            self.kind = "postgres"
            self.name = "orkestra_sdk_" + uuid.uuid4().hex[:16]
            _psql(f'CREATE DATABASE "{self.name}"')
            parsed = urllib.parse.urlsplit(PG_ADMIN_URL)
            self.url = urllib.parse.urlunsplit(
                (parsed.scheme, parsed.netloc, "/" + self.name, "", "")
            )
        else:
            raise ValueError(f"ORKESTRA_TEST_DB must be sqlite or postgres, not {kind!r}")

    def scan_at_rest(self) -> None:
        """Looks for card numbers in clear in what this database keeps: the SQLite files
        (database, WAL), or a full data dump of the PostgreSQL database. Once."""
        if self.scanned:
            return
        self.scanned = True
        if self.kind == "sqlite":
            for path in sorted(self.workdir.glob("orkestra.db*")):
                AT_REST_FINDINGS.extend(find_sent_pans(path.read_bytes(), str(path)))
        elif self.name:
            parsed = urllib.parse.urlsplit(PG_ADMIN_URL)
            url = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, "/" + self.name, "", ""))
            dump = subprocess.run(["pg_dump", "--data-only", url], capture_output=True, timeout=300)
            if dump.returncode != 0:
                AT_REST_FINDINGS.append(f"pg_dump of {self.name} failed: {dump.stderr[:300]!r}")
            else:
                AT_REST_FINDINGS.extend(find_sent_pans(dump.stdout, f"database {self.name}"))

    def drop(self) -> None:
        if self.kind == "postgres" and self.name:
            self.scan_at_rest()
            try:
                _psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            except Exception as e:  # leave it rather than fail the session
                print(f"warning: could not drop database {self.name}: {e}")
            self.name = None


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", PG_ADMIN_URL, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
        check=True,
        capture_output=True,
        timeout=60,
    )


# -------------------------------------------------------------------------------------
# Servers
# -------------------------------------------------------------------------------------

SERVERS: List["OrkestraServer"] = []


class OrkestraServer:
    """One `orkestra serve` process. Logs (stdout and stderr) go to `log_path`."""

    def __init__(
        self,
        db: Database,
        data_dir: Path,
        name: str = "orkestra",
        sandbox: bool = True,
        bank_timeout_secs: Optional[int] = None,
        pos_rest_secs: Optional[int] = None,
        port: Optional[int] = None,
        owner: Optional[str] = None,
    ):
        self.db = db
        self.data_dir = data_dir
        self.name = name
        self.sandbox = sandbox
        self.bank_timeout_secs = bank_timeout_secs
        self.pos_rest_secs = pos_rest_secs
        self.port = port or free_port()
        self.owner = owner  # a test's nodeid, or None for session-wide servers
        self.proc: Optional[subprocess.Popen] = None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir / f"{name}.log"
        self.starts = 0
        SERVERS.append(self)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sim_url(self) -> str:
        """The in-process NestPay simulator's admin base (sandbox servers only)."""
        return f"{self.base_url}/sim/nestpay/_sim"

    def start(self) -> "OrkestraServer":
        args = [
            str(BIN),
            "serve",
            "--listen",
            f"127.0.0.1:{self.port}",
            "--database-url",
            self.db.url,
            "--data-dir",
            str(self.data_dir),
        ]
        if self.sandbox:
            args.append("--sandbox")
        if self.bank_timeout_secs is not None:
            args += ["--bank-timeout-secs", str(self.bank_timeout_secs)]
        if self.pos_rest_secs is not None:
            args += ["--pos-rest-secs", str(self.pos_rest_secs)]
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(f"\n===== start #{self.starts}: {' '.join(args)}\n".encode())
        log.flush()
        self.proc = _spawn(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=base_env(),
            cwd=str(self.data_dir),
        )
        log.close()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_SECS
        keys = self.data_dir / "sandbox-merchant.json"
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(
                    f"orkestra exited with {self.proc.returncode} while starting:\n"
                    + self.log_tail(40)
                )
            try:
                r = requests.get(self.base_url + "/__ready__", timeout=2)
                if r.status_code and (not self.sandbox or keys.exists()):
                    return
            except requests.RequestException:
                pass
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    f"orkestra did not answer on {self.base_url} within "
                    f"{SERVER_START_SECS}s:\n" + self.log_tail(40)
                )
            time.sleep(0.1)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """Crash: SIGKILL, no shutdown of any kind."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)

    def restart(self) -> "OrkestraServer":
        self.stop()
        # The port may linger briefly; retry on the same port, as a real restart would.
        last: Optional[Exception] = None
        for _ in range(20):
            try:
                return self.start()
            except RuntimeError as e:
                last = e
                if "binding" not in str(e):
                    raise
                time.sleep(0.5)
        raise RuntimeError(f"could not restart {self.name}: {last}")

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def sandbox_keys(self) -> Dict[str, Any]:
        return json.loads((self.data_dir / "sandbox-merchant.json").read_text())

    def create_merchant(self, name: str) -> Dict[str, Any]:
        return create_merchant(self.db, name, self.data_dir)


def create_merchant(db: Database, name: str, data_dir: Path) -> Dict[str, Any]:
    """`orkestra merchant create`: returns {merchantId, apiKey, secretKey, ...}."""
    wait_for_binary()
    args = [
        str(BIN),
        "merchant",
        "create",
        "--database-url",
        db.url,
        "--data-dir",
        str(data_dir),
        "--name",
        name,
    ]
    deadline = time.monotonic() + BINARY_WAIT_SECS
    while True:
        try:
            out = subprocess.run(
                args, capture_output=True, env=base_env(), timeout=60, text=True
            )
            break
        except OSError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(1)
            wait_for_binary()
    if out.returncode != 0:
        raise RuntimeError(f"merchant create failed ({out.returncode}): {out.stderr}")
    for line in reversed(out.stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"merchant create printed no JSON: {out.stdout!r}")


class SimProcess:
    """A stand-alone `orkestra sim` process (bank simulators outside the server)."""

    def __init__(self, workdir: Path, name: str = "sim"):
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.log_path = workdir / f"{name}.log"
        self.proc: Optional[subprocess.Popen] = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        return f"{self.base_url}/nestpay/_sim"

    def start(self) -> "SimProcess":
        log = open(self.log_path, "ab")
        self.proc = _spawn(
            [str(BIN), "sim", "--listen", f"127.0.0.1:{self.port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=base_env(),
        )
        log.close()
        deadline = time.monotonic() + SERVER_START_SECS
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("orkestra sim exited:\n" + self.log_path.read_text())
            try:
                requests.get(self.admin_url + "/clock", timeout=2)
                return self
            except requests.RequestException:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


# -------------------------------------------------------------------------------------
# Simulator admin
# -------------------------------------------------------------------------------------


class SimAdmin:
    """The NestPay simulator's JSON admin endpoints (`.../nestpay/_sim`)."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.http = requests.Session()
        self.http.trust_env = False

    def _ok(self, r: requests.Response) -> Any:
        assert r.status_code == 200, f"sim admin {r.request.method} {r.url}: {r.status_code} {r.text}"
        return r.json()

    def add_store(self, client_id: str, name: str, password: str, store_key: str) -> Any:
        return self._ok(
            self.http.post(
                self.base + "/stores",
                json={"clientId": client_id, "name": name, "password": password, "storeKey": store_key},
                timeout=10,
            )
        )

    def fault(self, client_id: str, mode: str, count: int = 1, delay_ms: Optional[int] = None) -> Any:
        body: Dict[str, Any] = {"clientId": client_id, "mode": mode, "count": count}
        if delay_ms is not None:
            body["delayMs"] = delay_ms
        return self._ok(self.http.post(self.base + "/faults", json=body, timeout=10))

    def pending_faults(self, client_id: str) -> List[Dict[str, Any]]:
        return self._ok(self.http.get(f"{self.base}/faults/{client_id}", timeout=10))["pending"]

    def clear_faults(self, client_id: Optional[str] = None) -> Any:
        params = {"clientId": client_id} if client_id else None
        return self._ok(self.http.delete(self.base + "/faults", params=params, timeout=10))

    def orders(self, client_id: str) -> List[Dict[str, Any]]:
        return self._ok(self.http.get(f"{self.base}/orders/{client_id}", timeout=10))

    def order(self, client_id: str, order_id: str) -> Optional[Dict[str, Any]]:
        r = self.http.get(f"{self.base}/orders/{client_id}/{order_id}", timeout=10)
        if r.status_code == 404:
            return None
        return self._ok(r)

    def settle(self, client_id: Optional[str] = None) -> int:
        body = {"clientId": client_id} if client_id else {}
        return self._ok(self.http.post(self.base + "/settle", json=body, timeout=10))["settled"]

    def clock(self) -> Dict[str, Any]:
        return self._ok(self.http.get(self.base + "/clock", timeout=10))


# -------------------------------------------------------------------------------------
# Raw signed requests (for what the SDK cannot send)
# -------------------------------------------------------------------------------------


def craftgate_signature(url: str, api_key: str, secret_key: str, rnd: str, body: bytes) -> str:
    """Base64(SHA-256(decodedUrl + apiKey + secretKey + rnd + body)) (reference §1.3)."""
    decoded = urllib.parse.unquote_plus(url)
    digest = hashlib.sha256(
        decoded.encode("utf-8") + api_key.encode() + secret_key.encode() + rnd.encode() + body
    ).digest()
    return base64.b64encode(digest).decode()


class RawClient:
    """Sends hand-made, Craftgate-signed requests with `requests`."""

    def __init__(self, base_url: str, api_key: str, secret_key: str):
        self.base_url = base_url
        self.api_key = api_key
        self.secret_key = secret_key
        self.http = requests.Session()
        self.http.trust_env = False

    @staticmethod
    def encode(body: Any) -> bytes:
        if body is None:
            return b""
        if isinstance(body, bytes):
            return body
        if isinstance(body, str):
            return body.encode("utf-8")
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_json_default).encode(
            "utf-8"
        )

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: Optional[Dict[str, str]] = None,
        sign: bool = True,
        sign_body: Any = None,
        sign_path: Optional[str] = None,
        api_key: Optional[str] = None,
        secret_key: Optional[str] = None,
        omit: tuple = (),
        lang: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        new_connection: bool = False,
        timeout: float = 60,
    ) -> requests.Response:
        payload = self.encode(body)
        signed_payload = payload if sign_body is None else self.encode(sign_body)
        api_key = self.api_key if api_key is None else api_key
        secret_key = self.secret_key if secret_key is None else secret_key
        rnd = str(uuid.uuid4())
        h: Dict[str, str] = {
            "x-api-key": api_key,
            "x-rnd-key": rnd,
            "x-auth-version": "v1",
            "x-client-version": "orkestra-sdk-tests:raw",
            "Accept": "application/json",
        }
        if payload:
            h["Content-Type"] = "application/json; charset=utf-8"
        if sign:
            h["x-signature"] = craftgate_signature(
                self.base_url + (sign_path or path), api_key, secret_key, rnd, signed_payload
            )
        if lang:
            h["lang"] = lang
        if idempotency_key is not None:
            h["x-idempotency-key"] = idempotency_key
        for name in omit:
            h.pop(name, None)
        if headers:
            h.update(headers)
        http = self.http
        if new_connection:  # a throwaway connection, not reused afterwards
            http = requests.Session()
            http.trust_env = False
        try:
            return http.request(
                method, self.base_url + path, data=payload if payload else None, headers=h, timeout=timeout
            )
        finally:
            if new_connection:
                http.close()

    def get(self, path: str, **kw) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw) -> requests.Response:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw) -> requests.Response:
        return self.request("PUT", path, body, **kw)

    def delete(self, path: str, **kw) -> requests.Response:
        return self.request("DELETE", path, **kw)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable: {value!r}")


def data_of(response: requests.Response, status: int = 200) -> Any:
    """The `data` of a successful envelope, asserting the status."""
    assert response.status_code == status, (
        f"expected HTTP {status}, got {response.status_code}: {response.text[:2000]}"
    )
    body = response.json()
    assert "data" in body, f"no data in {body}"
    return body["data"]


def errors_of(response: requests.Response, status: Optional[int] = None) -> Dict[str, Any]:
    """The `errors` object of a failed envelope, checking its required fields."""
    if status is not None:
        assert response.status_code == status, (
            f"expected HTTP {status}, got {response.status_code}: {response.text[:2000]}"
        )
    else:
        assert response.status_code >= 400, f"expected an error, got {response.status_code}"
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"errors"}, f"error envelope must hold only 'errors': {body}"
    errors = body["errors"]
    assert isinstance(errors.get("errorCode"), str) and errors["errorCode"], errors
    assert isinstance(errors.get("errorDescription"), str) and errors["errorDescription"], errors
    return errors


# -------------------------------------------------------------------------------------
# HTTP traffic watch: the last response per thread, and card numbers in responses
# -------------------------------------------------------------------------------------

_local = threading.local()
PAN_LEAKS: List[str] = []
_PAN_RE = re.compile(rb"(?<![0-9])[0-9]{15,19}(?![0-9])")
# Card numbers the tests have sent (Luhn-valid digit runs in request bodies). Only these
# count as leaks: a bank reference number (PosNet's 18-digit HostLogKey, say) is Luhn-valid
# one time in ten and would otherwise make the watch flaky.
SENT_PANS: set = set()
_installed = False


def last_response() -> Optional[requests.Response]:
    """The last HTTP response this thread received (SDK calls included)."""
    return getattr(_local, "last", None)


def last_status() -> Optional[int]:
    r = last_response()
    return r.status_code if r is not None else None


def install_traffic_watch() -> None:
    """Wraps requests.Session.send: remembers each thread's last response and records any
    card number a test sent that comes back in an Orkestra API response body."""
    global _installed
    if _installed:
        return
    _installed = True
    original = requests.Session.send

    def send(self, request, **kwargs):
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        if isinstance(body, bytes):
            # A card form may send the number grouped ("5258 6400 ..."): ungroup it too.
            ungrouped = body.replace(b"%20", b"").replace(b"+", b"").replace(b" ", b"")
            for match in _PAN_RE.findall(body) + _PAN_RE.findall(ungrouped):
                if luhn_ok(match.decode()):
                    SENT_PANS.add(match.decode())
        response = original(self, request, **kwargs)
        _local.last = response
        url = request.url or ""
        if "/sim/" not in url and "/nestpay/" not in url:
            try:
                content = response.content or b""
            except Exception:
                content = b""
            for match in _PAN_RE.findall(content):
                digits = match.decode()
                if digits in SENT_PANS:
                    PAN_LEAKS.append(f"{request.method} {url} -> {response.status_code}: {digits}")
        return response

    requests.Session.send = send  # type: ignore[method-assign]


@dataclass
class SimPos:
    """A merchant POS created through the API, pointing at its own simulator store."""

    id: int
    alias: str
    client_id: str
    name: str
    password: str
    store_key: str
    response: Any
