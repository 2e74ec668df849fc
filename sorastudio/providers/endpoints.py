"""Turn whatever endpoint URL a user pasted into the base URL a provider client needs.

Rules (see shared/spec/sora-apis.md §1, §3, §3.1, §4):

* Azure (``*.openai.azure.com``, ``*.cognitiveservices.azure.com``, ``*.services.ai.azure.com``, or any
  host with an ``azure_*`` api hint): base is ``{origin}/openai/v1`` for every Sora API. A pasted
  ``/openai/deployments/{d}/…`` route is undocumented for Sora; ``d`` is returned as ``deployment`` so the
  caller can send it as ``model``, and a warning says so.
* ``api-version``: Azure's v1 routes accept it absent, ``v1`` or ``preview``. A pasted ``v1``/``preview`` is
  kept. Otherwise (absent, or an old date version such as ``2025-02-15-preview``, which the v1 routes
  refuse) we use ``preview`` — what every Sora 1 document sends and what field code sends to Sora 2 —
  except for ``azure_videos``, where we send none, as Microsoft's Sora 2 samples do.
* OpenAI (``api.openai.com``): ``https://api.openai.com/v1``, no api-version.
* Anything else is a compatible ``/v1/videos`` server (vLLM-Omni, SGLang, the sorastudio emulator):
  the path up to ``/v1`` is kept; a bare origin gets ``/v1`` (or ``/openai/v1`` with an ``azure_*`` hint,
  which is how the emulator serves its Azure surface).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal, get_args
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from sorastudio.errors import ValidationError

ApiHint = Literal["azure_sora1", "azure_videos", "openai_videos", "compatible"]
EndpointKind = Literal["azure", "openai", "compatible"]
_Root = Literal["openai_v1", "openai_deployments", "openai", "v1", "none"]

AZURE_API_VERSIONS = ("v1", "preview")
DEFAULT_AZURE_API_VERSION = "preview"
AZURE_HOST_SUFFIXES = (
    ".openai.azure.com",
    ".cognitiveservices.azure.com",
    ".services.ai.azure.com",
    ".openai.azure.us",
    ".cognitiveservices.azure.us",
)
OPENAI_HOSTS = frozenset({"api.openai.com"})
# Query parameters that carry a secret; a URL holding one must not be stored or logged.
_CREDENTIAL_QUERY_KEYS = frozenset(
    {"api-key", "api_key", "apikey", "key", "subscription-key", "access_token"}
)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A normalised endpoint. `warnings` is a tuple (not a list) so the dataclass stays hashable."""

    base_url: str
    kind: EndpointKind
    api: ApiHint | None = None
    api_version: str | None = None
    deployment: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def params(self) -> dict[str, str]:
        """Query parameters every request to this endpoint carries (the api-version, if any)."""
        return {"api-version": self.api_version} if self.api_version else {}

    def url(self, path: str, /, **query: str | int | None) -> str:
        """Full URL for `path` (e.g. ``"/videos/abc/content"``), with api-version and `query` (None skipped).

        `path` is percent-encoded here, so pass raw ids.
        """
        if not path.startswith("/"):
            path = "/" + path
        params = dict(self.params)
        params.update({k: str(v) for k, v in query.items() if v is not None})
        tail = f"?{urlencode(params)}" if params else ""
        return f"{self.base_url}{quote(path, safe='/')}{tail}"


def _fail(message: str, value: str | None) -> ValidationError:
    return ValidationError(message, field="endpoint", value=value, allowed=())


def _clean(raw: object) -> str:
    if not isinstance(raw, str):
        raise _fail(f"endpoint must be a URL string, got {type(raw).__name__}", None)
    text = raw.strip()
    if len(text) >= 2 and (text[0], text[-1]) in {('"', '"'), ("'", "'"), ("<", ">")}:
        text = text[1:-1].strip()  # pasted with quotes or as <url>
    if not text:
        raise _fail("endpoint URL is empty: paste the resource URL, e.g. https://myres.openai.azure.com", "")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise _fail("endpoint URL contains whitespace or control characters inside it", None)
    if "://" not in text:
        # A bare host ("res.cognitiveservices.azure.com", "localhost:8000") means https:// — also needed
        # because urlsplit would read "localhost:8000" as scheme "localhost".
        text = "https://" + text.removeprefix("//")
    return text


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _split_path(segments: list[str]) -> tuple[list[str], _Root, str | None, list[str]]:
    """Find the API root in the path: (prefix before it, root style, deployment, operation segments)."""
    low = [s.lower() for s in segments]
    for i, seg in enumerate(low):
        if seg == "openai":
            nxt = low[i + 1] if i + 1 < len(low) else ""
            if nxt == "v1":
                return segments[:i], "openai_v1", None, segments[i + 2 :]
            if nxt == "deployments" and i + 2 < len(low):
                return segments[:i], "openai_deployments", unquote(segments[i + 2]), segments[i + 3 :]
            return segments[:i], "openai", None, segments[i + 1 :]
        if seg == "v1":
            return segments[:i], "v1", None, segments[i + 1 :]
    for i, seg in enumerate(low):
        if seg == "videos" or (seg == "video" and low[i + 1 : i + 2] == ["generations"]):
            return segments[:i], "none", None, segments[i:]
    return segments, "none", None, []


def _shape(rest: list[str]) -> Literal["sora1", "videos"] | None:
    low = [s.lower() for s in rest]
    if low[:2] == ["video", "generations"]:
        return "sora1"
    if low[:1] == ["videos"]:
        return "videos"
    return None


def normalize_endpoint(url: str, api: ApiHint | None = None) -> Endpoint:
    """Normalise a pasted endpoint URL; `api` is an optional hint of which API the caller will speak.

    Raises `ValidationError` (field ``endpoint``) for empty input, non-http(s) schemes, URLs without a
    host, URLs carrying credentials, and hints that cannot work with the host (Sora 1 on OpenAI).
    """
    if api is not None and api not in get_args(ApiHint):
        allowed = get_args(ApiHint)
        raise ValidationError(
            f"api={api!r} is not a known API: choose one of {', '.join(allowed)}",
            field="api",
            value=api,
            allowed=allowed,
        )
    parts = urlsplit(_clean(url))
    scheme = parts.scheme.lower()
    if "@" in parts.netloc:
        raise _fail(
            "endpoint URL must not contain a user name or password (user:pass@host): "
            "remove it and give the key through the API-key setting instead",
            None,
        )
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(k.lower() in _CREDENTIAL_QUERY_KEYS for k, _ in query):
        raise _fail(
            "endpoint URL must not contain a key in its query (e.g. ?api-key=…): "
            "remove it and give the key through the API-key setting instead",
            None,
        )
    shown = f"{scheme}://{parts.netloc}{parts.path}"  # safe to echo: no userinfo, no query
    if scheme not in ("http", "https"):
        raise _fail(
            f"endpoint URL scheme {scheme!r} in {shown} is not supported: use https:// "
            "(or http:// for a server on your own machine or network)",
            shown,
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise _fail(f"endpoint URL {shown} has no host name", shown)
    try:
        port = parts.port
    except ValueError:
        raise _fail(
            f"endpoint URL {shown} has an invalid port: use a number from 1 to 65535", shown
        ) from None

    warnings: list[str] = []
    azure_host = host.endswith(AZURE_HOST_SUFFIXES)
    openai_host = host in OPENAI_HOSTS
    segments = [s for s in parts.path.split("/") if s]
    prefix, root, deployment, rest = _split_path(segments)
    shape = _shape(rest)

    # Which wire family: the host decides when it is a known cloud; else the hint; else the path.
    kind: EndpointKind
    if openai_host:
        kind = "openai"
        if api == "azure_sora1":
            raise _fail(
                f"api=azure_sora1 (the Sora 1 jobs API) exists only on Azure, but {host} is OpenAI: "
                "use an Azure resource endpoint, or api=openai_videos",
                shown,
            )
        if api == "azure_videos":
            warnings.append(f"{host} is OpenAI, not Azure: using the OpenAI /v1/videos API")
        api = "openai_videos"
    elif azure_host or (api is not None and api.startswith("azure_")):
        kind = "azure"
        if api in ("openai_videos", "compatible"):
            warnings.append(f"{host} is an Azure endpoint: using the Azure Sora 2 API (/openai/v1/videos)")
            api = "azure_videos"
    elif api in ("openai_videos", "compatible"):
        kind = "compatible"
    elif root in ("openai_v1", "openai_deployments", "openai") or shape == "sora1":
        kind = "azure"
    else:
        kind, api = "compatible", "compatible"

    if kind == "azure":
        inferred: ApiHint | None = {"sora1": "azure_sora1", "videos": "azure_videos", None: None}[shape]
        if api is None:
            api = inferred
        elif inferred is not None and inferred != api:
            warnings.append(f"the pasted path is a {inferred} route but api={api} was chosen: using {api}")

    if (azure_host or openai_host) and scheme == "http":
        warnings.append(f"{host} is only served over https: switched http:// to https://")
        scheme = "https"
    elif scheme == "http" and not _is_loopback(host):
        warnings.append(f"{host} is reached over plain http: the key is sent unencrypted")

    netloc = host if ":" not in host else f"[{host}]"  # IPv6 literals need their brackets back
    if port is not None:
        netloc += f":{port}"
    origin = f"{scheme}://{netloc}"

    if root == "openai_deployments":
        warnings.append(
            f"the /openai/deployments/{deployment}/… route is not documented for Sora: "
            f"using /openai/v1 with model={deployment!r}"
        )
    elif root == "openai" and kind == "azure":
        tail = "/".join(rest)
        warnings.append(f"/openai/{tail} is not a documented Sora route: using /openai/v1")

    if openai_host:
        base_path = "/v1"
    elif azure_host:
        if prefix:
            warnings.append(
                f"ignored the path /{'/'.join(prefix)}: Sora is served at /openai/v1 of the resource"
            )
        base_path = "/openai/v1"
    elif root in ("openai_v1", "openai_deployments", "openai"):
        base_path = "".join(f"/{s}" for s in prefix) + "/openai/v1"
    elif root == "v1":
        base_path = "".join(f"/{s}" for s in prefix) + "/v1"
    elif not prefix:
        base_path = "/openai/v1" if kind == "azure" else "/v1"
    else:
        base_path = "".join(f"/{s}" for s in prefix)
        warnings.append(f"the path {base_path} has no /v1 in it: using it as the base as given")

    given_version = next((v.strip() for k, v in query if k.lower() == "api-version"), None)
    api_version: str | None = None
    if kind == "azure":
        default = None if api == "azure_videos" else DEFAULT_AZURE_API_VERSION
        if given_version and given_version.lower() in AZURE_API_VERSIONS:
            api_version = given_version.lower()
        else:
            api_version = default
            if given_version:
                warnings.append(
                    f"api-version={given_version} belongs to the old deployment routes; /openai/v1 accepts "
                    f"only v1 or preview (or none): using {api_version or 'none'}"
                )
    elif given_version:
        warnings.append(f"api-version={given_version} ignored: only Azure endpoints use it")

    others = sorted({k for k, _ in query if k.lower() != "api-version"})
    if others:
        warnings.append(f"ignored query parameters: {', '.join(others)}")

    return Endpoint(
        base_url=origin + base_path,
        kind=kind,
        api=api,
        api_version=api_version,
        deployment=deployment,
        warnings=tuple(warnings),
    )


__all__ = [
    "AZURE_API_VERSIONS",
    "DEFAULT_AZURE_API_VERSION",
    "ApiHint",
    "Endpoint",
    "EndpointKind",
    "normalize_endpoint",
]
