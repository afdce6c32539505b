"""uvicorn's sans-I/O WebSocket protocol, able to write a batch of text messages at once.

Subscription fan-out sends many small messages to many connections; through ASGI each one is
an awaited ``send`` that frames and writes it alone. This protocol adds one ASGI extension,
:data:`EXTENSION`, whose ``writer`` writes a batch of text messages as frames in one transport
write (see :class:`FrameWriter`). Everything else is uvicorn's ``websockets-sansio``
implementation unchanged, and the application falls back to plain ``websocket.send`` when a
server lacks the extension.

Guarantees: a batch is written only while the handshake is complete, no close frame has been
sent or received and the transport is open (else nothing is written and ``write_texts``
answers False); with a negotiated extension (permessage-deflate) the frames go through
``websockets`` so they are encoded as agreed; the application waits on ``writable`` (cleared
by the transport's flow control) before writing, as uvicorn's own ``send`` does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from .framing import text_frames

EXTENSION = "event_registry.websocket.batch"


class FrameWriter(Protocol):
    """What the extension offers the application (``scope["extensions"][EXTENSION]["writer"]``)."""

    @property
    def writable(self) -> asyncio.Event: ...

    def write_texts(self, payloads: Sequence[bytes]) -> bool: ...


class BatchingWebSocketProtocol(WebSocketsSansIOProtocol):
    async def run_asgi(self) -> None:
        # The scope exists once the handshake request is parsed; the app runs in this task.
        self.scope["extensions"][EXTENSION] = {"writer": self}
        await super().run_asgi()

    def write_texts(self, payloads: Sequence[bytes]) -> bool:
        """Write UTF-8 ``payloads`` as text frames in one transport write; False if closed."""
        if (
            self.disconnected
            or self.close_sent
            or not self.handshake_complete
            or self.initial_response is not None
            or self.conn.state is not State.OPEN
            or self.transport.is_closing()
        ):
            return False
        if self.conn.extensions:
            for payload in payloads:
                self.conn.send_text(payload)
            self.transport.write(b"".join(self.conn.data_to_send()))
        else:
            self.transport.write(text_frames(payloads))
        return True
