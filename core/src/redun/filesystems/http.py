"""Read-only HTTP(S) on the standard library (urllib), so the core needs no HTTP client.

Files are hashed like redun's fsspec-based HTTP filesystem (URL and
Content-Length), so recorded cache entries stay valid. Globbing follows the
links of HTML directory listings (as served by ``python -m http.server``,
nginx autoindex, Apache, ...).
"""

from __future__ import annotations

import errno
import io
import re
import urllib.error
import urllib.request
from html.parser import HTMLParser
from shlex import quote
from typing import IO, Any, NoReturn
from urllib.parse import unquote, urldefrag, urljoin

from redun.file import FileSystem, RedunPermissionError
from redun.hashing import hash_struct

TIMEOUT_SECONDS = 60
_MAGIC = re.compile(r"[*?\[]")
_READ_ONLY_MESSAGE = "HTTP(S) URLs are read-only; write to a local path or another filesystem"


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            for name, value in attrs:
                if name == "href" and value:
                    self.hrefs.append(value)


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Glob semantics of glob.glob(recursive=True): ``*`` stays within one path segment."""
    parts = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            parts.append(".*")
            index += 2
        elif pattern[index] == "*":
            parts.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            parts.append("[^/]")
            index += 1
        elif pattern[index] == "[" and "]" in pattern[index + 1 :]:
            end = pattern.index("]", index + 1)
            body = pattern[index + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            parts.append(f"[{body}]")
            index = end + 1
        else:
            parts.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(parts) + r"/?\Z")


class HTTPFileSystem(FileSystem):
    """http:// and https:// URLs: open for reading, stat, glob directory listings."""

    name = "http"

    def _request(self, url: str, method: str) -> Any:
        request = urllib.request.Request(url, method=method)
        try:
            return urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS)
        except urllib.error.HTTPError as error:
            error.close()
            if error.code in (404, 410):
                raise FileNotFoundError(errno.ENOENT, f"Not found (HTTP {error.code})") from None
            if error.code in (401, 403):
                raise PermissionError(errno.EACCES, f"Access denied (HTTP {error.code})") from None
            if error.code == 405 and method == "HEAD":
                return self._request(url, "GET")
            raise OSError(errno.EIO, f"HTTP {error.code} {error.reason}") from None
        except urllib.error.URLError as error:
            raise OSError(errno.EHOSTUNREACH, f"Cannot reach {url}: {error.reason}") from None

    def _head(self, url: str) -> tuple[int | None, str] | None:
        """(Content-Length or None, final URL after redirects), or None if missing."""
        try:
            response = self._request(url, "HEAD")
        except FileNotFoundError:
            return None
        with response:
            length = response.headers.get("Content-Length")
            return (int(length) if length is not None else None), response.geturl()

    def _read_only(self, path: str) -> NoReturn:
        raise RedunPermissionError(path, errno.EROFS, _READ_ONLY_MESSAGE)

    def _open(self, path: str, mode: str, **kwargs: Any) -> IO:
        if any(char in mode for char in "wax+"):
            raise PermissionError(errno.EROFS, _READ_ONLY_MESSAGE)
        response = self._request(path, "GET")
        if "b" in mode:
            return response
        return io.TextIOWrapper(response, encoding="utf-8")

    def exists(self, path: str) -> bool:
        return self._head(path) is not None

    def remove(self, path: str) -> None:
        self._read_only(path)

    def touch(self, path: str, time: tuple[float, float] | None = None) -> None:
        self._read_only(path)

    def mkdir(self, path: str) -> None:
        self._read_only(path)

    def rmdir(self, path: str, recursive: bool = False) -> None:
        self._read_only(path)

    def get_hash(self, path: str) -> str:
        """URL and size, exactly as redun's fsspec HTTP filesystem hashed them."""
        head = self._head(path)
        size = -1 if head is None else head[0]
        return hash_struct(["File", "fsspec", path, str(size)])

    def isdir(self, path: str) -> bool:
        head = self._head(path)
        return head is not None and head[1].endswith("/")

    def isfile(self, path: str) -> bool:
        head = self._head(path)
        return head is not None and not head[1].endswith("/")

    def filesize(self, path: str) -> int:
        head = self._head(path)
        if head is None:
            raise FileNotFoundError(errno.ENOENT, f"Not found: {path}")
        if head[0] is not None:
            return head[0]
        with self._request(path, "GET") as response:
            return sum(len(block) for block in iter(lambda: response.read(1 << 20), b""))

    def _links(self, page_url: str) -> list[str]:
        """Absolute URLs linked from an HTML page (a directory listing)."""
        try:
            with self._request(page_url, "GET") as response:
                charset = response.headers.get_content_charset() or "utf-8"
                html = response.read().decode(charset, errors="replace")
        except FileNotFoundError:
            return []
        parser = _LinkParser()
        parser.feed(html)
        return [urldefrag(urljoin(page_url, href))[0].split("?")[0] for href in parser.hrefs]

    def glob(self, pattern: str) -> list[str]:
        """Match `pattern` against the links of the listings below its fixed prefix."""
        match = _MAGIC.search(pattern)
        if match is None:
            return [pattern] if self.exists(pattern) else []
        base = pattern[: pattern.rfind("/", 0, match.start()) + 1]
        rest = pattern[len(base) :]
        max_depth = None if "**" in rest else rest.count("/") + 1
        regex = _glob_regex(unquote(pattern))
        matches: list[str] = []
        seen = {base}
        queue = [(base, 1)]
        while queue:
            page, depth = queue.pop(0)
            for link in self._links(page):
                if link in seen or not link.startswith(base):
                    continue
                seen.add(link)
                if regex.match(unquote(link)):
                    matches.append(link)
                if link.endswith("/") and (max_depth is None or depth < max_depth):
                    queue.append((link, depth + 1))
        return matches

    def shell_copy(
        self,
        src_path: str | None,
        dest_path: str | None,
        recursive: bool = False,
        as_mount: bool = False,
    ) -> str:
        if recursive:
            return super().shell_copy(src_path, dest_path, recursive=True)
        return f"redun fs cp {quote(src_path or '-')} {quote(dest_path or '-')}"
