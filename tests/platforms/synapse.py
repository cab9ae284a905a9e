"""A throwaway Synapse homeserver for the tests, from its own virtual environment.

The venv is `$SHEQUN_SYNAPSE_VENV` (default `.venv-synapse` at the repository root;
`make synapse` builds it). Synapse listens on a free loopback port, keeps its SQLite
database in a temporary folder, federates with nobody, lets nobody register except by
the shared secret, and has its rate limits relaxed for the test users.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.helpers.ports import free_port

VENV_ENV = "SHEQUN_SYNAPSE_VENV"
ROOT = Path(__file__).resolve().parents[2]
INSTALL_HINT = (
    "install it with `make synapse` (python3 -m venv .venv-synapse && "
    ".venv-synapse/bin/pip install matrix-synapse), or point $SHEQUN_SYNAPSE_VENV at a venv "
    "that has it"
)
SERVER_NAME = "localhost"


def synapse_python() -> Path:
    """The Python of the Synapse venv; FileNotFoundError naming the fix when absent."""
    venv = Path(os.environ.get(VENV_ENV) or ROOT / ".venv-synapse")
    python = venv / "bin" / "python"
    if not python.exists():
        raise FileNotFoundError(f"no Synapse venv at {venv}; {INSTALL_HINT}")
    return python


def _config(folder: Path, port: int, shared_secret: str) -> str:
    """homeserver.yaml: loopback only, SQLite, no federation, relaxed rate limits."""
    limits = "\n".join(
        f"{name}: {{per_second: 1000, burst_count: 1000}}"
        for name in ("rc_message", "rc_registration", "rc_admin_redaction", "rc_3pid_validation")
    )
    return f"""
server_name: "{SERVER_NAME}"
pid_file: {folder}/homeserver.pid
public_baseurl: http://127.0.0.1:{port}/
listeners:
  - port: {port}
    bind_addresses: ["127.0.0.1"]
    type: http
    tls: false
    x_forwarded: false
    resources: [{{names: [client], compress: false}}]
database:
  name: sqlite3
  args: {{database: {folder}/homeserver.db}}
log_config: {folder}/log.yaml
media_store_path: {folder}/media
signing_key_path: {folder}/signing.key
registration_shared_secret: "{shared_secret}"
macaroon_secret_key: "{secrets.token_hex(16)}"
form_secret: "{secrets.token_hex(16)}"
enable_registration: false
bcrypt_rounds: 4
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
presence: {{enabled: false}}
url_preview_enabled: false
{limits}
rc_login:
  address: {{per_second: 1000, burst_count: 1000}}
  account: {{per_second: 1000, burst_count: 1000}}
  failed_attempts: {{per_second: 1000, burst_count: 1000}}
rc_joins:
  local: {{per_second: 1000, burst_count: 1000}}
  remote: {{per_second: 1000, burst_count: 1000}}
rc_joins_per_room: {{per_second: 1000, burst_count: 1000}}
rc_invites:
  per_room: {{per_second: 1000, burst_count: 1000}}
  per_user: {{per_second: 1000, burst_count: 1000}}
  per_issuer: {{per_second: 1000, burst_count: 1000}}
"""


_LOG = """
version: 1
formatters: {plain: {format: '%(asctime)s %(name)s %(levelname)s %(message)s'}}
handlers: {file: {class: logging.FileHandler, filename: LOGFILE, formatter: plain}}
root: {level: WARNING, handlers: [file]}
disable_existing_loggers: false
"""


@dataclass(frozen=True)
class User:
    user_id: str
    access_token: str
    device_id: str
    password: str


class Synapse:
    """Start with `start()`, stop with `stop()` (restartable: same folder and port)."""

    def __init__(self) -> None:
        self.python = synapse_python()
        self.folder = Path(tempfile.mkdtemp(prefix="shequn-synapse-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.shared_secret = secrets.token_hex(16)
        self.process: subprocess.Popen[bytes] | None = None
        (self.folder / "homeserver.yaml").write_text(
            _config(self.folder, self.port, self.shared_secret)
        )
        (self.folder / "log.yaml").write_text(
            _LOG.replace("LOGFILE", str(self.folder / "homeserver.log"))
        )
        seed = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        (self.folder / "signing.key").write_text(f"ed25519 a_test {seed}\n")

    def start(self, timeout: float = 60.0) -> None:
        """Run the homeserver; return once /_matrix/client/versions answers."""
        out = (self.folder / "stdout.log").open("ab")
        self.process = subprocess.Popen(
            [str(self.python), "-m", "synapse.app.homeserver", "-c", "homeserver.yaml"],
            cwd=self.folder,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Synapse exited at start:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/_matrix/client/versions", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Synapse did not answer within {timeout:g} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        text = ""
        for name in ("stdout.log", "homeserver.log"):
            path = self.folder / name
            if path.exists():
                text += "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + "\n"
        return text

    def register(self, localpart: str, *, admin: bool = False) -> User:
        """A user registered through the shared-secret admin API."""
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        nonce = httpx.get(endpoint).json()["nonce"]
        password = secrets.token_hex(8)
        # HMAC-SHA1 of nonce, user, password and admin, NUL-separated
        parts = (nonce, localpart, password, "admin" if admin else "notadmin")
        mac = hmac.new(self.shared_secret.encode(), "\x00".join(parts).encode(), hashlib.sha1)
        digest = mac.hexdigest()
        body = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": digest,
        }
        answer = httpx.post(endpoint, json=body)
        answer.raise_for_status()
        data = answer.json()
        return User(data["user_id"], data["access_token"], data["device_id"], password)


class Client:
    """A test user's own small client: what a person does in a room."""

    def __init__(self, synapse: Synapse, user: User) -> None:
        self.user = user
        self.http = httpx.Client(
            base_url=f"{synapse.url}/_matrix/client/v3",
            headers={"Authorization": f"Bearer {user.access_token}"},
            timeout=30,
        )

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        answer = self.http.request(method, path, json=body)
        answer.raise_for_status()
        return answer.json()

    def create_room(self, **body: object) -> str:
        return self.call("POST", "/createRoom", {"preset": "public_chat", **body})["room_id"]

    def join(self, room: str) -> None:
        self.call("POST", f"/join/{room}", {})

    def leave(self, room: str) -> None:
        self.call("POST", f"/rooms/{room}/leave", {})

    def invite(self, room: str, user_id: str) -> None:
        self.call("POST", f"/rooms/{room}/invite", {"user_id": user_id})

    def send(self, room: str, content: dict, kind: str = "m.room.message") -> str:
        txn = secrets.token_hex(8)
        return self.call("PUT", f"/rooms/{room}/send/{kind}/{txn}", content)["event_id"]

    def say(self, room: str, text: str, **extra: object) -> str:
        return self.send(room, {"msgtype": "m.text", "body": text, **extra})

    def messages(self, room: str, limit: int = 100) -> list[dict]:
        """The room's timeline, oldest first."""
        found = self.call("GET", f"/rooms/{room}/messages?dir=b&limit={limit}")["chunk"]
        return list(reversed(found))

    def texts(self, room: str) -> list[tuple[str, str]]:
        """(sender, body) of the room's text messages, oldest first."""
        return [
            (e["sender"], e["content"].get("body", ""))
            for e in self.messages(room)
            if e["type"] == "m.room.message"
        ]

    def power(self, room: str, changes: dict[str, int]) -> None:
        levels = self.call("GET", f"/rooms/{room}/state/m.room.power_levels/")
        levels.setdefault("users", {}).update(changes)
        self.call("PUT", f"/rooms/{room}/state/m.room.power_levels/", levels)

    def close(self) -> None:
        self.http.close()
