"""A `services:` file becomes frozen `Service` declarations (language/services.py), with every
problem located; and the declarations a workflow calls become the canonical text the store
keeps beside the workflow's own (`Workflow.services_source`), from which they are built again.

The schema (schemas/services.schema.json) checks the shapes; here are the checks it cannot
make: durations, a header that looks like a secret, authentication that names no place for its
secret, response schemas and the CEL expressions of the path, and what would let a declaration
change the request's structure: a base URL without a host or with a query, a path that does not
start with `/`, a header value with a line break, a header the HTTP client writes itself
(`Host`, `Content-Length`...).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from linkflow.errors import Problem
from linkflow.language.durations import DurationError, parse_duration
from linkflow.language.expressions import ExpressionError, Template
from linkflow.language.schema import check_fragment_schema
from linkflow.language.services import HEADER_VALUE, Auth, RetryPolicy, Service
from linkflow.language.yaml_loader import Document
from linkflow.source import DocPath

#: Header names that carry credentials: such a header belongs under `auth`, read from the
#: environment or a file when the call is made, never written in a definition.
_SECRET_HEADER = re.compile(
    r"^(authorization|proxy-authorization|cookie)$|key|token|secret|passw|signature|credential",
    re.IGNORECASE,
)
#: A header value that carries a credential whatever the header's name (`Bearer abc...`).
_SECRET_VALUE = re.compile(r"^\s*(bearer|basic|digest|token|negotiate)\s+\S", re.IGNORECASE)
#: Headers the HTTP client writes itself, from the URL and the body, or that frame the
#: request: declared, they would contradict it (or smuggle another request into it).
_CLIENT_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "expect",
        "idempotency-key",
        "accept-encoding",
    }
)
#: What a path's literal text may not hold: spaces, control characters, a fragment, or
#: braces that are not a placeholder.
_PATH_FORBIDDEN = re.compile(r"[\x00-\x20\x7f#{}\\]")
#: The longest one attempt of a call may wait, in seconds.
MAX_TIMEOUT = 3600.0
#: Fields every `<name>.done` payload has besides the declared ones.
RESERVED_RESPONSE_FIELDS = frozenset({"status"})
#: The names a path template may read (for an invoke only `data` is there when it is made).
PATH_NAMES = frozenset({"data", "payload"})


@dataclass
class ServiceSet:
    """The services declared by the files loaded together, by name, with each declaration as
    written (what the canonical text is made of)."""

    services: dict[str, Service] = field(default_factory=dict)
    written: dict[str, Any] = field(default_factory=dict)
    #: A services file had problems: a service it meant to declare may be missing, and the
    #: file's own problems say why (a workflow does not report it unknown a second time).
    broken: bool = False

    def add(self, other: ServiceSet) -> list[Problem]:
        """Take in another file's services; a name declared twice is a located problem."""
        problems = []
        self.broken = self.broken or other.broken
        for name, service in other.services.items():
            first = self.services.get(name)
            if first is not None and first.location.file != service.location.file:
                problems.append(
                    Problem(
                        service.location,
                        f"service '{name}' is already declared in {first.location}",
                    )
                )
                continue
            self.services[name] = service
            self.written[name] = other.written[name]
        return problems

    def source_of(self, names: set[str]) -> str:
        """The canonical text of the named services' declarations ("" for none): compact JSON
        with sorted keys, so the same declarations always give the same text (and hash)."""
        used = {n: self.written[n] for n in sorted(names) if n in self.written}
        if not used:
            return ""
        return json.dumps({"services": used}, sort_keys=True, separators=(",", ":"))


class _Builder:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.problems: list[Problem] = []
        self.folder = Path(doc.file).parent

    def problem(self, path: DocPath, message: str, *, key: bool = False) -> None:
        self.problems.append(Problem(self.doc.locate(path, key=key), message))

    def seconds(self, value: Any, path: DocPath, default: float) -> float:
        if value is None:
            return default
        try:
            return parse_duration(value)
        except DurationError as err:
            self.problem(path, str(err))
            return default

    def build(self) -> ServiceSet:
        out = ServiceSet()
        for name, spec in (self.doc.value.get("services") or {}).items():
            service, written = self.service(name, spec, ("services", name))
            if service is not None:
                out.services[name] = service
                out.written[name] = written
        return out

    def service(
        self, name: str, spec: Mapping[str, Any], path: DocPath
    ) -> tuple[Service | None, dict[str, Any]]:
        before = len(self.problems)
        written = dict(spec)
        headers = dict(spec.get("headers") or {})
        self.base_url(str(spec["base_url"]), (*path, "base_url"))
        seen: set[str] = set()
        for header, value in headers.items():
            self.header(header, str(value), (*path, "headers", header))
            if header.lower() in seen:  # header names are not case-sensitive: sent twice
                self.problem(
                    (*path, "headers", header),
                    f"header '{header}' is declared twice (names differing only in case)",
                    key=True,
                )
            seen.add(header.lower())
        auth = self.auth(spec.get("auth"), (*path, "auth"), written)
        if (
            auth is not None
            and auth.scheme == "header"
            and any(h.lower() == auth.header.lower() for h in headers)
        ):
            self.problem(
                (*path, "auth", "header"),
                f"header '{auth.header}' is declared under `headers` too: the secret would "
                "replace it, or be sent twice",
            )
        template = spec.get("path") or ""
        self.path(template, (*path, "path"))
        retry_spec = spec.get("retry") or {}
        retry = RetryPolicy(
            attempts=int(retry_spec.get("attempts", 5)),
            initial=self.seconds(retry_spec.get("initial"), (*path, "retry", "initial"), 1.0),
            factor=float(retry_spec.get("factor", 2.0)),
            max_delay=self.seconds(
                retry_spec.get("max_delay"), (*path, "retry", "max_delay"), 60.0
            ),
        )
        response = self.response(spec.get("response") or {}, (*path, "response"))
        timeout = self.seconds(spec.get("timeout"), (*path, "timeout"), 10.0)
        if timeout > MAX_TIMEOUT:
            self.problem(
                (*path, "timeout"),
                f"a call's timeout is at most {MAX_TIMEOUT:g} seconds (an hour): a worker "
                "holds the call, and one of its slots, for as long as it waits",
            )
        if len(self.problems) > before:
            return None, written
        return (
            Service(
                name=name,
                location=self.doc.locate(path, key=True),
                base_url=str(spec["base_url"]).rstrip("/"),
                method=str(spec.get("method", "POST")),
                path=template,
                headers=headers,
                auth=auth,
                timeout=timeout,
                retry=retry,
                response=response,
            ),
            written,
        )

    def base_url(self, url: str, path: DocPath) -> None:
        """A base URL the schema's pattern let through must still be one: http(s), a host, a
        port in range, no user, query, fragment, space or control character."""
        why = ""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as err:
            why = f"it is not a URL ({err})"
        else:
            if parts.scheme not in ("http", "https"):
                why = "it must start with http:// or https://"
            elif not parts.hostname:
                why = "it names no host"
            elif port == 0:
                why = "its port must be 1 to 65535"
            elif parts.username is not None or parts.password is not None:
                why = "it holds a user or password: use `auth`"
            elif parts.query or parts.fragment or "?" in url or "#" in url:
                why = "it holds a query or fragment: the path is appended to it"
            elif _PATH_FORBIDDEN.search(url) or not url.isascii():
                why = "it holds a space, a control character, a brace or a non-ASCII character"
        if why:
            self.problem(path, f"base_url is not usable: {why}")

    def header(self, name: str, value: str, path: DocPath) -> None:
        if _SECRET_HEADER.search(name):
            self.problem(
                path,
                f"header '{name}' looks like a secret, and no secret may be written in a "
                "definition: declare it under `auth` (`{scheme: header, header: "
                f"{name}, env: VARIABLE}}` or `secret_file: FILE`)",
                key=True,
            )
        elif name.lower() in _CLIENT_HEADERS:
            self.problem(
                path,
                f"header '{name}' is written by the HTTP client itself (from the URL, the body "
                "or the call's identity): it cannot be declared",
                key=True,
            )
        if not HEADER_VALUE.fullmatch(value):
            self.problem(
                path,
                f"the value of header '{name}' holds a line break, a control character or a "
                "non-ASCII character: a header value is one line of visible ASCII",
            )
        elif _SECRET_VALUE.match(value):
            self.problem(
                path,
                f"the value of header '{name}' looks like a credential, and no secret may be "
                "written in a definition: declare it under `auth` (an environment variable or "
                "a secret file)",
            )

    def path(self, template: str, path: DocPath) -> None:
        if template and not template.startswith("/"):
            self.problem(path, "path must start with '/': it is appended to base_url")
            return
        try:
            compiled = Template.compile(template)
        except ExpressionError as err:
            self.problem(path, f"path placeholder does not compile: {err}")
            return
        for part in compiled.parts:
            if isinstance(part, str) and _PATH_FORBIDDEN.search(part):
                self.problem(
                    path,
                    "path holds a space, a control character, a '#', a backslash or a brace "
                    "that is not a `{placeholder}`",
                )
                return
        for unknown in sorted(compiled.names - PATH_NAMES):
            self.problem(
                path,
                f"path placeholder uses unknown name '{unknown}' (it sees `data`, and for "
                "a notify `payload`)",
            )

    def auth(  # noqa: PLR0911 - a return per refusal
        self, spec: Any, path: DocPath, written: dict[str, Any]
    ) -> Auth | None:
        if spec is None:
            return None
        places = [k for k in ("env", "secret_file") if k in spec]
        if len(places) != 1:
            self.problem(
                path,
                "authentication names where its secret is read: give exactly one of `env` (an "
                "environment variable) and `secret_file` (a file)"
                + ("" if places else ", never the secret itself"),
            )
            return None
        scheme = str(spec["scheme"])
        if scheme == "header" and "header" not in spec:
            self.problem(path, "scheme `header` needs `header`: the name of the header to send")
            return None
        if scheme == "bearer" and "header" in spec:
            self.problem((*path, "header"), "scheme `bearer` always sends `Authorization`")
            return None
        if scheme == "header" and str(spec["header"]).lower() in _CLIENT_HEADERS:
            self.problem(
                (*path, "header"),
                f"header '{spec['header']}' is written by the HTTP client itself: the secret "
                "needs a header of its own",
            )
            return None
        secret_file = str(spec.get("secret_file", ""))
        if "\x00" in secret_file or len(secret_file) > 4096:
            self.problem(
                (*path, "secret_file"),
                "secret_file is not a usable path (a NUL character, or longer than 4096)",
            )
            return None
        if secret_file and not Path(secret_file).is_absolute():
            # kept resolved: the worker that reads it may run in another folder
            secret_file = str((self.folder / secret_file).resolve())
            written["auth"] = {**spec, "secret_file": secret_file}
        return Auth(
            scheme=scheme,
            env=str(spec.get("env", "")),
            secret_file=secret_file,
            header=str(spec.get("header", "Authorization")),
        )

    def response(self, spec: Mapping[str, Any], path: DocPath) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name, given in spec.items():
            if name in RESERVED_RESPONSE_FIELDS:
                self.problem(
                    (*path, name),
                    f"'{name}' is a field of every `.done` payload (the HTTP status): "
                    "choose another name",
                    key=True,
                )
                continue
            schema = {"type": given} if isinstance(given, str) else dict(given)
            for inner, message in check_fragment_schema(schema) or _ref_problems(schema, ()):
                self.problem((*path, name, *inner), f"response schema: {message}")
            out[name] = schema
        return out


def _ref_problems(node: Any, path: DocPath) -> list[tuple[DocPath, str]]:
    """Every `$ref` of a response schema: the worker judges answers with it, and a reference
    it cannot follow (another document, a pointer to nothing) would fail each judgement, or
    reach for the network. A response schema is self-contained: it has no `$ref`."""
    if isinstance(node, list):
        return [p for i, item in enumerate(node) for p in _ref_problems(item, (*path, i))]
    if not isinstance(node, dict):
        return []
    found: list[tuple[DocPath, str]] = []
    for key, value in node.items():
        if key in ("$ref", "$dynamicRef", "$id", "$schema", "$anchor", "$dynamicAnchor"):
            found.append(((*path, key), f"'{key}' is not taken here: write the schema out in full"))
        elif key not in ("const", "enum", "default", "examples"):
            found += _ref_problems(value, (*path, key))
    return found


def build_services(doc: Document) -> tuple[ServiceSet, list[Problem]]:
    """The services of a schema-valid `services:` document, and its problems."""
    builder = _Builder(doc)
    built = builder.build()
    built.broken = bool(builder.problems)
    return built, builder.problems
