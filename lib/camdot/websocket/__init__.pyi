from typing import Any, Awaitable, Callable, Optional, Sequence, Union

from microdot import Request
from microdot.microdot import HTTPException

from camdot.websocket.protocol import ClientProtocol, Protocol

Buffer = Union[bytes, bytearray, memoryview]
Message = Union[str, bytes, bytearray]

__all__: list[str]


class WebSocketError(Exception):
    status_code: Optional[int]      # set by connect() for a refused upgrade


class HandshakeError(HTTPException):
    headers: dict[str, str]
    def __init__(self, status_code: int, reason: str,
                 headers: Optional[dict[str, str]] = ...) -> None: ...


def accept_key(key: str) -> str: ...


class WebSocket:
    CONT: int
    TEXT: int
    BINARY: int
    CLOSE: int
    PING: int
    PONG: int
    max_message_length: int
    origins: Optional[list[str]]
    ping_interval: float
    ping_timeout: float
    close_timeout: float
    read_size: int
    binary_type: type
    Protocol: type[Protocol]

    request: Optional[Request]
    protocol: Protocol
    subprotocol: Optional[str]
    closed: bool

    def __init__(self, request: Optional[Request], reader: Any = ..., writer: Any = ...,
                 max_message_length: Optional[int] = ...) -> None: ...
    @property
    def close_code(self) -> Optional[int]: ...
    @property
    def close_reason(self) -> str: ...
    @staticmethod
    def origin_allowed(request: Request, origins: Optional[Sequence[str]]) -> bool: ...
    async def handshake(self, protocols: Optional[Sequence[str]] = ...,
                        origins: Optional[Sequence[str]] = ...) -> None: ...
    def start_keepalive(self) -> None: ...
    async def receive(self) -> Message: ...
    def __aiter__(self) -> 'WebSocket': ...
    async def __anext__(self) -> Message: ...
    async def ping(self, data: Buffer = ...) -> None: ...
    async def send(self, data: Union[str, Buffer], opcode: Optional[int] = ...) -> None: ...
    async def send_parts(self, opcode: int, parts: Sequence[Buffer]) -> None: ...
    async def close(self, code: int = ..., reason: str = ...) -> None: ...
    async def fail(self, code: int, reason: str = ...) -> None: ...
    def abort(self) -> None: ...


class ClientWebSocket(WebSocket):
    Protocol: type[ClientProtocol]
    def __init__(self, reader: Any, writer: Any,
                 max_message_length: Optional[int] = ...) -> None: ...
    async def handshake(self, path: str, host: str,  # type: ignore[override]
                        protocols: Optional[Sequence[str]] = ...,
                        headers: Optional[dict[str, str]] = ...) -> None: ...


Handler = Callable[..., Awaitable[Any]]


async def websocket_upgrade(request: Request, protocols: Optional[Sequence[str]] = ...,
                            origins: Optional[Sequence[str]] = ...,
                            max_message_length: Optional[int] = ...) -> WebSocket: ...
def websocket_wrapper(f: Handler,
                      upgrade_function: Callable[[Request], Awaitable[WebSocket]]) -> Handler: ...
def with_websocket(f: Optional[Handler] = ..., protocols: Optional[Sequence[str]] = ...,
                   origins: Optional[Sequence[str]] = ...,
                   max_message_length: Optional[int] = ...) -> Any: ...
async def connect(url: str, protocols: Optional[Sequence[str]] = ...,
                  headers: Optional[dict[str, str]] = ..., max_message_length: Optional[int] = ...,
                  timeout: Optional[float] = ...) -> ClientWebSocket: ...
