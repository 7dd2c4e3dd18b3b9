"""The original FastAPI template's WebSocket + SQLite flow (server.py), as a
peer for tools/bench: one connection is one conversation; the session is
created on connect; each message is stored, routed, answered and the answer
stored, each row in its own committed transaction.

So that parley-loadgen drives it as it drives Parley, it speaks Parley's
frames (docs/protocol.md) instead of the template's bare text: a `session`
frame on connect, and for each `message` frame an `ack` (after the user
message's commit) and a `message` with the answer (after its commit).

Usage: /usr/bin/python3 server.py --db PATH [--wal] [--host H] [--port P]
Prints `listening on HOST:PORT` once the socket listens (port 0 picks one).
"""

import argparse
import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import uvicorn  # noqa: E402
from fastapi import FastAPI, WebSocket, WebSocketDisconnect  # noqa: E402

from chat_db import ChatDB  # noqa: E402
from router import ChatState, get_response  # noqa: E402

app = FastAPI()
db = None  # set by main()


@app.websocket("/ws")
async def websocket_endpoint(ws: WebSocket):
    await ws.accept()
    session_id = db.create_session()
    db.add_event(session_id, "session_started", {"source": "websocket"})
    state = ChatState()
    state.user_data["session_id"] = session_id
    seq = 1
    await ws.send_text(json.dumps({
        "type": "session", "seq": seq, "session_id": session_id,
        "resume_token": "", "resumed": False, "status": "active"}))
    try:
        while True:
            data = await ws.receive_text()
            # Parley's frame, or the template's bare text.
            client_id = None
            text = data
            try:
                frame = json.loads(data)
                if isinstance(frame, dict):
                    client_id = frame.get("id")
                    text = frame.get("text", "")
            except ValueError:
                pass
            if client_id is not None:
                client_id = str(client_id)
            message_id = db.add_message(session_id, "user", text)
            seq += 1
            await ws.send_text(json.dumps({
                "type": "ack", "seq": seq, "id": client_id,
                "message_id": message_id}))

            response = await get_response(text, state)
            reply_id = db.add_message(session_id, "assistant", response)
            seq += 1
            await ws.send_text(json.dumps({
                "type": "message", "seq": seq, "id": reply_id,
                "reply_to": message_id, "role": "assistant",
                "text": response, "source": "fallback"}))
    except WebSocketDisconnect:
        db.add_event(session_id, "session_closed", {})


def main():
    global db
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--db", required=True, help="the SQLite file")
    parser.add_argument("--wal", action="store_true",
                        help="journal_mode=WAL (default: the rollback "
                             "journal, as the template)")
    args = parser.parse_args()
    db = ChatDB(args.db, wal=args.wal)
    # The socket is bound here so that port 0 can be reported; uvicorn
    # serves on it (one worker, as `uvicorn server:app`).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(2048)
    host, port = sock.getsockname()[:2]
    print(f"listening on {host}:{port}", flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False,
                            lifespan="off", backlog=2048)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
