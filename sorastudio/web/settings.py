"""Settings of the web app: where it listens, who may use it, and its limits.

`WebSettings.from_env()` reads `SORASTUDIO_WEB_PASSWORD` (login password or API token),
`SORASTUDIO_WEB_SECRET` (key signing session cookies; random per process when unset, so a restart
logs everyone out) and `SORASTUDIO_WEB_MAX_UPLOAD` (bytes). Secrets are `SecretStr`: they never show in
a repr, a log line or a rendered page.

Login is required whenever the app is bound to a non-loopback address; it refuses to start that way
without a password rather than serving an open studio (and its paid API keys) to the network.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from sorastudio.errors import ValidationError

PASSWORD_ENV = "SORASTUDIO_WEB_PASSWORD"
SECRET_ENV = "SORASTUDIO_WEB_SECRET"
MAX_UPLOAD_ENV = "SORASTUDIO_WEB_MAX_UPLOAD"
DEFAULT_MAX_UPLOAD = 25 * 1024 * 1024  # a 20 MiB image (images.DEFAULT_MAX_BYTES) plus form overhead


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and "localhost"; False for 0.0.0.0, :: and any routable address."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything, so treat it as exposed


class WebSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    password: SecretStr | None = None
    secret_key: SecretStr = Field(default_factory=lambda: SecretStr(secrets.token_urlsafe(32)))
    max_upload_bytes: int = Field(DEFAULT_MAX_UPLOAD, ge=1024)
    cookie_secure: bool | None = None  # None: Secure when the request came over https
    session_max_age: int = Field(7 * 24 * 3600, ge=60)  # seconds
    run_engine: bool = True  # run the generation engine in this process
    embedded_emulator: bool = True  # start the built-in emulator when its profile is used and absent
    sse_poll_seconds: float = Field(0.5, gt=0, le=10)  # how often the event stream looks for news
    sse_max_seconds: float = Field(300.0, gt=0)  # then the browser reconnects (Last-Event-ID resumes)

    @property
    def login_required(self) -> bool:
        return not is_loopback(self.host)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def check(self) -> WebSettings:
        """Refuse an exposed server without a login."""
        if self.login_required and (self.password is None or not self.password.get_secret_value()):
            raise ValidationError(
                f"host={self.host} is reachable from other machines, so a login is required: set "
                f"{PASSWORD_ENV} (a password or token), or bind to 127.0.0.1",
                field="password",
            )
        return self

    @classmethod
    def from_env(cls, **overrides: Any) -> WebSettings:
        values: dict[str, Any] = {}
        if os.environ.get(PASSWORD_ENV):
            values["password"] = SecretStr(os.environ[PASSWORD_ENV])
        if os.environ.get(SECRET_ENV):
            values["secret_key"] = SecretStr(os.environ[SECRET_ENV])
        raw = os.environ.get(MAX_UPLOAD_ENV)
        if raw:
            if not raw.strip().isdigit():
                raise ValidationError(
                    f"{MAX_UPLOAD_ENV}={raw} is not a number of bytes", field=MAX_UPLOAD_ENV, value=raw
                )
            values["max_upload_bytes"] = int(raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


__all__ = ["PASSWORD_ENV", "SECRET_ENV", "WebSettings", "is_loopback"]
