from typing import Any, Awaitable, Callable, Optional, Union

from camdot.hub import Hub, Subscription

Hook = Callable[..., Optional[Awaitable[None]]]
BUFFERS: tuple[type, ...]
CLOSED: tuple[type[BaseException], ...]


async def pipe(sub: Subscription, ws: Any,
               encode: Optional[Callable[[Any, Any], Any]] = ...,
               on_message: Optional[Hook] = ..., on_close: Optional[Hook] = ...,
               on_error: Optional[Hook] = ...) -> None: ...


def messages(ws: Any, maxlen: int = ..., policy: Optional[str] = ..., topic: Any = ...,
             on_close: Optional[Hook] = ..., on_error: Optional[Hook] = ...) -> Subscription: ...


class Client:
    pubsub: PubSub
    ws: Any
    id: int
    subs: dict[str, Subscription]
    outbox: Subscription

    @property
    def dropped(self) -> int: ...
    def filters(self) -> list[str]: ...
    def send(self, data: Any) -> None: ...
    def error(self, text: str) -> None: ...
    def subscribe(self, pattern: str) -> None: ...
    def unsubscribe(self, pattern: str) -> None: ...
    def close(self) -> None: ...


class PubSub:
    max_queue: int
    max_filters: int
    hub: Hub
    clients: dict[int, Client]
    on_connect: Optional[Hook]
    on_close: Optional[Hook]
    on_error: Optional[Hook]
    allow: Optional[Callable[[Client, str, str], Union[bool, Awaitable[bool]]]]

    def __init__(self, hub: Hub, max_queue: Optional[int] = ...,
                 max_filters: Optional[int] = ...) -> None: ...
    def broadcast(self, data: Any) -> int: ...
    def send(self, client_id: int, data: Any) -> bool: ...
    async def serve(self, ws: Any) -> None: ...
    async def handle(self, client: Client, msg: Union[str, bytes]) -> None: ...
