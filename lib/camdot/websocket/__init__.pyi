from typing import Any, Awaitable, Callable, Optional, Sequence, Union

from microdot import Request
from microdot.microdot import HTTPException

Buffer = Union[bytes, bytearray, memoryview]


class WebSocketError(Exception): ...


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

    request: Optional[Request]
    subprotocol: Optional[str]
    closed: bool
    close_code: Optional[int]
    close_reason: str

    def __init__(self, request: Optional[Request], reader: Any = ..., writer: Any = ...,
                 client: bool = ...) -> None: ...
    @staticmethod
    def origin_allowed(request: Request, origins: Optional[Sequence[str]]) -> bool: ...
    async def handshake(self, protocols: Optional[Sequence[str]] = ...,
                        origins: Optional[Sequence[str]] = ...) -> None: ...
    async def receive(self) -> Union[str, bytearray]: ...
    def __aiter__(self) -> 'WebSocket': ...
    async def __anext__(self) -> Union[str, bytearray]: ...
    async def send(self, data: Union[str, Buffer], opcode: Optional[int] = ...) -> None: ...
    async def send_parts(self, opcode: Optional[int], parts: Sequence[Buffer]) -> None: ...
    async def close(self, code: int = ..., reason: str = ...) -> None: ...
    def abort(self) -> None: ...


Handler = Callable[..., Awaitable[Any]]


async def websocket_upgrade(request: Request, protocols: Optional[Sequence[str]] = ...,
                            origins: Optional[Sequence[str]] = ...) -> WebSocket: ...
def with_websocket(f: Optional[Handler] = ..., protocols: Optional[Sequence[str]] = ...,
                   origins: Optional[Sequence[str]] = ...) -> Any: ...
async def connect(url: str, protocols: Optional[Sequence[str]] = ...,
                  headers: Optional[dict[str, str]] = ...) -> WebSocket: ...
