"""Bybit's v5 public websocket protocol, shared by the linear/inverse and spot simulators.

Both speak ``{"op":"subscribe"|"unsubscribe"|"ping","args":[..],"req_id":..}`` answered with one
``{"success","ret_msg","conn_id","req_id","op"}`` reply per request: ``pong`` for a ping, ``handler
not found`` naming the topics a subscribe request asks for that the endpoint does not serve, and
``request not json`` for a frame that is not a JSON object. A subclass decides which topics a
session's path serves (:meth:`BybitStreamsSim.accept`) and may send frames after the reply (a
ticker snapshot).
"""

from __future__ import annotations

import abc

import msgspec

from monitor.simulator.base import SimSession, SimVenue, json_object

__all__ = ["BybitStreamsSim"]


class BybitStreamsSim(SimVenue):
    """Bybit's ``op`` handshake (subscribe, unsubscribe, ping) and its reply shape."""

    @abc.abstractmethod
    def accept(self, session: SimSession, topics: list[str]) -> tuple[list[str], list[str]]:
        """Subscribe ``session`` to the ``topics`` its path serves.

        Returns:
            The topics refused (not served on this path), and frames to send after the reply.
        """

    def on_message(self, session: SimSession, text: str) -> list[str]:
        conn_id = f"sim-{id(session):x}"
        req = json_object(text)
        if req is None:
            return [_reply(False, "error:request not json", conn_id, "", "")]
        op, req_id = str(req.get("op", "")), str(req.get("req_id", ""))
        if op == "ping":
            session.pings += 1
            return [_reply(True, "pong", conn_id, req_id, "ping")]
        if op not in ("subscribe", "unsubscribe"):
            return [_reply(False, f"error:unknown op {op}", conn_id, req_id, op)]
        args = [str(a) for a in req.get("args") or []]
        if op == "unsubscribe":
            session.subscriptions.difference_update(args)
            return [_reply(True, "", conn_id, req_id, op)]
        bad, after = self.accept(session, args)
        if bad:
            msg = "error:handler not found,topic:" + ",".join(bad)
            return [_reply(False, msg, conn_id, req_id, op), *after]
        return [_reply(True, "", conn_id, req_id, op), *after]


def _reply(success: bool, ret_msg: str, conn_id: str, req_id: str, op: str) -> str:
    body = {"success": success, "ret_msg": ret_msg, "conn_id": conn_id, "req_id": req_id, "op": op}
    return msgspec.json.encode(body).decode()
