"""A MongoDB wire-protocol server for tests: a test double, not a database.

Separate processes (the lister, the assigner, operational servers) must
share one database in the distributed tests, and these machines cannot run
mongod. This server speaks enough of the MongoDB wire protocol (OP_MSG, which
is all pymongo 4.20 sends, handshake included) for real pymongo clients to
work against one in-memory mongomock client, so the production code runs
unchanged with GLIMPSE_MONGO_URI=mongodb://127.0.0.1:PORT.

    python -m tests.fakes.mongo_server --port N     # N = 0 picks a free port

The first line on stdout is "listening on PORT".

What it is:
* A standalone server (no replica set, no transactions, no authentication),
  loopback only. Every command runs under one lock, so each is atomic and
  commands are serialised, as the embedded bundle's locked handles are.
* Commands: hello/isMaster/ismaster, ping, buildInfo, endSessions, insert,
  find, getMore, killCursors, update (upsert, multi), delete, findAndModify,
  count, aggregate (what mongomock's pipeline supports, which covers
  count_documents), createIndexes, listIndexes, listCollections, drop,
  dropDatabase. Anything else answers CommandNotFound (59).
* Queries, updates and projections are mongomock's: its operators and its
  gaps (no arrayFilters, no collations: those answer an error).
* A duplicate unique key is a write error with code 11000, so pymongo raises
  DuplicateKeyError (BulkWriteError in a bulk write).
* Cursors hold a snapshot of their results taken when the query ran.
"""

from __future__ import annotations

import argparse
import ipaddress
import itertools
import logging
import signal
import socket
import socketserver
import struct
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import bson
import mongomock
from bson.codec_options import CodecOptions
from bson.int64 import Int64
from mongomock.filtering import filter_applies
from pymongo.errors import DuplicateKeyError, OperationFailure

import glimpse.store.db  # noqa: F401  (installs the mongomock patches the bundle relies on: fast _id lookups, unique checks)
from tests.fakes.mongo_traps import Traps

log = logging.getLogger(__name__)

OP_MSG = 2013
MORE_TO_COME = 1 << 1
CHECKSUM_PRESENT = 1
HEADER = struct.Struct("<iiii")  # messageLength, requestID, responseTo, opCode

MAX_BSON_SIZE = 16 * 1024 * 1024
MAX_MESSAGE_SIZE = 48_000_000
MAX_WIRE_VERSION = 21  # MongoDB 7.0
DEFAULT_FIRST_BATCH = 101
# A batch stops growing past this many bytes of documents, well under the 16 MB reply limit.
BATCH_BYTES = 8 * 1024 * 1024

DECODE = CodecOptions(document_class=dict, tz_aware=False)

# Fields of a command that address the server, the session or the reply, not the operation.
_ENVELOPE = {"$db", "lsid", "$clusterTime", "$readPreference", "readConcern", "writeConcern", "txnNumber",
             "apiVersion", "apiStrict", "apiDeprecationErrors", "maxTimeMS", "comment", "bypassDocumentValidation"}  # fmt: skip


class CommandError(Exception):
    """A command that fails as a whole: answered {ok: 0, code, codeName, errmsg}."""

    def __init__(self, code: int, name: str, message: str):
        super().__init__(message)
        self.code, self.name = code, name


def _error(code: int, name: str, message: str) -> dict:
    return {"ok": 0.0, "errmsg": message, "code": code, "codeName": name}


def _write_error(index: int, exc: Exception) -> dict:
    """One entry of writeErrors for a failed statement."""
    if isinstance(exc, DuplicateKeyError):
        return {"index": index, "code": 11000, "errmsg": f"E11000 duplicate key error: {exc}"}
    code = getattr(exc, "code", None) or 2  # BadValue: what mongod answers for most refused updates
    return {"index": index, "code": code, "errmsg": str(exc)}


def _as_command_error(exc: Exception) -> CommandError:
    if isinstance(exc, DuplicateKeyError):
        return CommandError(11000, "DuplicateKey", f"E11000 duplicate key error: {exc}")
    if isinstance(exc, OperationFailure):
        return CommandError(exc.code or 2, "BadValue", str(exc))
    if isinstance(exc, NotImplementedError):
        return CommandError(238, "NotImplemented", f"not supported by the fake MongoDB server: {exc}")
    return CommandError(2, "BadValue", f"{type(exc).__name__}: {exc}")


def _sort_spec(sort: dict | None) -> list[tuple[str, int]] | None:
    return list(sort.items()) if sort else None


def _refuse_unsupported(statement: dict) -> None:
    for option in ("arrayFilters", "collation", "hint"):
        if statement.get(option):
            raise CommandError(238, "NotImplemented", f"{option} is not supported by the fake MongoDB server")


def _is_operator_update(update: Any) -> bool:
    if isinstance(update, list):
        raise CommandError(
            238, "NotImplemented", "pipeline updates are not supported by the fake MongoDB server"
        )
    return bool(update) and next(iter(update)).startswith("$")


class Backend:
    """One mongomock client (any number of databases) behind one lock, and the open cursors."""

    def __init__(self):
        self.client: Any = mongomock.MongoClient()
        self.lock = threading.RLock()
        self.cursors: dict[
            int, tuple[str, list[dict], int]
        ] = {}  # id -> (namespace, documents left, batch size)
        self._cursor_ids = itertools.count(1)
        self._connection_ids = itertools.count(1)
        self.commands: dict[str, Callable[[Any, str, dict], dict]] = {
            "hello": self._hello, "isMaster": self._hello, "ismaster": self._hello,
            "ping": self._ok, "endSessions": self._ok,
            "buildInfo": self._build_info, "buildinfo": self._build_info,
            "insert": self._insert, "update": self._update, "delete": self._delete,
            "find": self._find, "getMore": self._get_more, "killCursors": self._kill_cursors,
            "findAndModify": self._find_and_modify, "findandmodify": self._find_and_modify,
            "count": self._count, "aggregate": self._aggregate,
            "createIndexes": self._create_indexes, "listIndexes": self._list_indexes,
            "listCollections": self._list_collections, "drop": self._drop, "dropDatabase": self._drop_database,
        }  # fmt: skip
        # Fault injection (tests/fakes/mongo_traps.py): kill or pause a process when a chosen write is applied.
        self.traps = Traps()
        self.commands["fakeTrap"] = self.traps.command

    def new_connection_id(self) -> int:
        return next(self._connection_ids)

    def run(self, command: dict) -> dict:
        """Execute one command document; the reply document (never raises)."""
        if not command:
            return _error(59, "CommandNotFound", "empty command")
        name = next(iter(command))
        handler = self.commands.get(name)
        if handler is None:
            return _error(
                59,
                "CommandNotFound",
                f"no such command: '{name}' (the fake MongoDB server implements {sorted(self.commands)})",
            )
        db = self.client[command.get("$db", "test")]
        try:
            with self.lock:
                reply = handler(db, command[name], command)
                self.traps.after_write(db.name, name, command, reply)
        except CommandError as exc:
            return _error(exc.code, exc.name, str(exc))
        except (OperationFailure, NotImplementedError, ValueError, TypeError, KeyError) as exc:
            err = _as_command_error(exc)
            return _error(err.code, err.name, str(err))
        except Exception as exc:  # a bug of the fake: say so to the client and in the log
            log.exception("fake MongoDB server: %s failed", name)
            return _error(
                1, "InternalError", f"fake MongoDB server failure in {name}: {type(exc).__name__}: {exc}"
            )
        reply.setdefault("ok", 1.0)
        return reply

    # --- server ----------------------------------------------------------------------------------

    def _hello(self, db, _value, command) -> dict:
        return {
            "helloOk": True,
            "ismaster": True,
            "isWritablePrimary": True,
            "maxBsonObjectSize": MAX_BSON_SIZE,
            "maxMessageSizeBytes": MAX_MESSAGE_SIZE,
            "maxWriteBatchSize": 100_000,
            "localTime": datetime.now(UTC),
            "logicalSessionTimeoutMinutes": 30,
            "connectionId": command.get("$connectionId", 0),
            "minWireVersion": 0,
            "maxWireVersion": MAX_WIRE_VERSION,
            "readOnly": False,
        }

    def _ok(self, db, _value, _command) -> dict:
        return {}

    def _build_info(self, db, _value, _command) -> dict:
        return {
            "version": "7.0.0",
            "versionArray": [7, 0, 0, 0],
            "gitVersion": "fake",
            "bits": 64,
            "maxBsonObjectSize": MAX_BSON_SIZE,
        }

    # --- writes ----------------------------------------------------------------------------------

    def _insert(self, db, collection, command) -> dict:
        coll = db[collection]
        errors, n = [], 0
        for index, doc in enumerate(command.get("documents", [])):
            try:
                coll.insert_one(doc)
                n += 1
            except (OperationFailure, ValueError, TypeError) as exc:
                errors.append(_write_error(index, exc))
                if command.get("ordered", True):
                    break
        return self._write_reply({"n": n}, errors)

    def _update(self, db, collection, command) -> dict:
        coll = db[collection]
        errors, upserted = [], []
        n = modified = 0
        for index, statement in enumerate(command.get("updates", [])):
            try:
                _refuse_unsupported(statement)
                query, update, upsert = (
                    statement.get("q", {}),
                    statement.get("u", {}),
                    bool(statement.get("upsert")),
                )
                if _is_operator_update(update):
                    method = coll.update_many if statement.get("multi") else coll.update_one
                    result = method(query, update, upsert=upsert)
                elif statement.get("multi"):
                    raise CommandError(
                        9, "FailedToParse", "multi update is not supported for replacement-style update"
                    )
                else:
                    result = coll.replace_one(query, update, upsert=upsert)
            except CommandError as exc:
                errors.append({"index": index, "code": exc.code, "errmsg": str(exc)})
            except (OperationFailure, NotImplementedError, ValueError, TypeError) as exc:
                errors.append(_write_error(index, exc))
            else:
                n += result.matched_count
                modified += result.modified_count
                if result.upserted_id is not None:
                    n += 1
                    upserted.append({"index": index, "_id": result.upserted_id})
                continue
            if command.get("ordered", True):
                break
        reply: dict[str, Any] = {"n": n, "nModified": modified}
        if upserted:
            reply["upserted"] = upserted
        return self._write_reply(reply, errors)

    def _delete(self, db, collection, command) -> dict:
        coll = db[collection]
        errors, n = [], 0
        for index, statement in enumerate(command.get("deletes", [])):
            try:
                _refuse_unsupported(statement)
                method = coll.delete_one if statement.get("limit") == 1 else coll.delete_many
                n += method(statement.get("q", {})).deleted_count
            except CommandError as exc:
                errors.append({"index": index, "code": exc.code, "errmsg": str(exc)})
            except (OperationFailure, NotImplementedError, ValueError, TypeError) as exc:
                errors.append(_write_error(index, exc))
            else:
                continue
            if command.get("ordered", True):
                break
        return self._write_reply({"n": n}, errors)

    @staticmethod
    def _write_reply(reply: dict, errors: list[dict]) -> dict:
        if errors:
            reply["writeErrors"] = errors
        return reply

    def _find_and_modify(self, db, collection, command) -> dict:
        _refuse_unsupported(command)
        coll = db[collection]
        query = command.get("query") or {}
        projection = command.get("fields") or command.get("projection")
        update = command.get("update")
        remove = bool(command.get("remove"))
        if remove == (update is not None):
            raise CommandError(9, "FailedToParse", "findAndModify needs either remove or update")
        found = coll.find_one(query, {"_id": 1}, sort=_sort_spec(command.get("sort")))
        if found is None:
            if remove or not command.get("upsert"):
                return {"lastErrorObject": {"n": 0, "updatedExisting": False}, "value": None}
            operator = _is_operator_update(update)
            result = (coll.update_one if operator else coll.replace_one)(query, update, upsert=True)
            after = coll.find_one({"_id": result.upserted_id}, projection) if command.get("new") else None
            return {
                "lastErrorObject": {"n": 1, "updatedExisting": False, "upserted": result.upserted_id},
                "value": after,
            }
        # The matched document, by its id and by the query (positional `$` updates need the query).
        by_id = {"_id": found["_id"]}
        target = dict(query, _id=found["_id"]) if "_id" not in query else {"$and": [query, by_id]}
        before = coll.find_one(by_id, projection)
        if remove:
            coll.delete_one(by_id)
            return {"lastErrorObject": {"n": 1}, "value": before}
        if _is_operator_update(update):
            coll.update_one(target, update)
        else:
            coll.replace_one(by_id, update)
        value = coll.find_one(by_id, projection) if command.get("new") else before
        return {"lastErrorObject": {"n": 1, "updatedExisting": True}, "value": value}

    # --- reads -----------------------------------------------------------------------------------

    def _find(self, db, collection, command) -> dict:
        _refuse_unsupported(command)
        limit = int(command.get("limit") or 0)
        single = bool(command.get("singleBatch")) or limit < 0
        docs = list(
            db[collection].find(
                command.get("filter") or {},
                command.get("projection"),
                skip=int(command.get("skip") or 0),
                limit=abs(limit),
                sort=_sort_spec(command.get("sort")),
            )
        )
        return self._cursor_reply(db, collection, docs, command.get("batchSize"), single)

    def _aggregate(self, db, collection, command) -> dict:
        if not isinstance(collection, str):
            raise CommandError(
                238, "NotImplemented", "database-level aggregate is not supported by the fake MongoDB server"
            )
        _refuse_unsupported(command)
        docs = list(db[collection].aggregate(command.get("pipeline") or []))
        return self._cursor_reply(db, collection, docs, (command.get("cursor") or {}).get("batchSize"), False)

    def _count(self, db, collection, command) -> dict:
        options = {k: int(command[k]) for k in ("limit", "skip") if command.get(k)}
        return {"n": db[collection].count_documents(command.get("query") or {}, **options)}

    def _cursor_reply(
        self, db, collection: str, docs: list[dict], batch_size: int | None, single: bool
    ) -> dict:
        namespace = f"{db.name}.{collection}"
        batch, rest = self._take(docs, batch_size or DEFAULT_FIRST_BATCH)
        cursor_id = 0
        if rest and not single:
            cursor_id = next(self._cursor_ids)
            self.cursors[cursor_id] = (namespace, rest, batch_size or 0)
        return {"cursor": {"id": Int64(cursor_id), "ns": namespace, "firstBatch": batch}}

    def _get_more(self, db, cursor_id, command) -> dict:
        entry = self.cursors.pop(int(cursor_id), None)
        if entry is None:
            raise CommandError(43, "CursorNotFound", f"cursor id {cursor_id} not found")
        namespace, docs, default_size = entry
        batch, rest = self._take(docs, command.get("batchSize") or default_size or len(docs))
        if rest:
            self.cursors[int(cursor_id)] = (namespace, rest, default_size)
        return {"cursor": {"id": Int64(cursor_id if rest else 0), "ns": namespace, "nextBatch": batch}}

    def _kill_cursors(self, db, _collection, command) -> dict:
        killed: list[Any] = []
        missing: list[Any] = []
        for cursor_id in command.get("cursors", []):
            (killed if self.cursors.pop(int(cursor_id), None) is not None else missing).append(cursor_id)
        return {"cursorsKilled": killed, "cursorsNotFound": missing, "cursorsAlive": [], "cursorsUnknown": []}

    @staticmethod
    def _take(docs: list[dict], count: int) -> tuple[list[dict], list[dict]]:
        """The next batch (at most `count` documents and about BATCH_BYTES) and what is left."""
        size = 0
        for index, doc in enumerate(docs[:count]):
            size += len(bson.encode(doc))
            if size > BATCH_BYTES and index > 0:
                return docs[:index], docs[index:]
        return docs[:count], docs[count:]

    # --- collections and indexes -----------------------------------------------------------------

    def _create_indexes(self, db, collection, command) -> dict:
        coll = db[collection]
        created = collection not in db.list_collection_names()
        before = len(coll.index_information()) or 1
        for spec in command.get("indexes", []):
            options = {k: v for k, v in spec.items() if k not in ("key", "v", "ns")}
            coll.create_index(list(spec["key"].items()), **options)
        return {
            "createdCollectionAutomatically": created,
            "numIndexesBefore": before,
            "numIndexesAfter": len(coll.index_information()),
        }

    def _list_indexes(self, db, collection, command) -> dict:
        if collection not in db.list_collection_names():
            raise CommandError(26, "NamespaceNotFound", f"ns does not exist: {db.name}.{collection}")
        docs = list(db[collection].list_indexes())
        return self._cursor_reply(db, collection, docs, (command.get("cursor") or {}).get("batchSize"), False)

    def _list_collections(self, db, _value, command) -> dict:
        docs = []
        for name in sorted(db.list_collection_names()):
            doc = {"name": name, "type": "collection"}
            if not command.get("nameOnly"):
                doc.update(
                    options={}, info={"readOnly": False}, idIndex={"v": 2, "key": {"_id": 1}, "name": "_id_"}
                )
            if filter_applies(command.get("filter") or {}, doc):
                docs.append(doc)
        return self._cursor_reply(
            db, "$cmd.listCollections", docs, (command.get("cursor") or {}).get("batchSize"), False
        )

    def _drop(self, db, collection, _command) -> dict:
        indexes = len(db[collection].index_information())
        db.drop_collection(collection)
        return {"ns": f"{db.name}.{collection}", "nIndexesWas": indexes}

    def _drop_database(self, db, _value, _command) -> dict:
        self.client.drop_database(db.name)
        return {"dropped": db.name}


# --- the wire ------------------------------------------------------------------------------------


def parse_op_msg(body: bytes) -> tuple[int, dict]:
    """(flag bits, command) of an OP_MSG body; document sequences join the command as lists."""
    (flags,) = struct.unpack_from("<I", body)
    end = len(body) - (4 if flags & CHECKSUM_PRESENT else 0)
    pos, command, sequences = 4, None, {}
    while pos < end:
        kind = body[pos]
        pos += 1
        if kind == 0:
            (size,) = struct.unpack_from("<i", body, pos)
            command = bson.decode(body[pos : pos + size], DECODE)
            pos += size
        elif kind == 1:
            (size,) = struct.unpack_from("<i", body, pos)
            section_end = pos + size
            name_end = body.index(b"\x00", pos + 4)
            identifier = body[pos + 4 : name_end].decode()
            sequences[identifier] = bson.decode_all(body[name_end + 1 : section_end], DECODE)
            pos = section_end
        else:
            raise ValueError(f"unknown OP_MSG section kind {kind}")
    if command is None:
        raise ValueError("OP_MSG without a body section")
    command.update(sequences)
    return flags, command


def encode_op_msg(request_id: int, response_to: int, doc: dict) -> bytes:
    payload = struct.pack("<IB", 0, 0) + bson.encode(doc)
    return HEADER.pack(HEADER.size + len(payload), request_id, response_to, OP_MSG) + payload


def _read_exact(sock: socket.socket, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class _Connection(socketserver.BaseRequestHandler):
    server: _TCPServer

    def handle(self) -> None:
        backend = self.server.backend
        connection_id = backend.new_connection_id()
        sock = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            try:
                header = _read_exact(sock, HEADER.size)
                if header is None:
                    return
                length, request_id, _, op_code = HEADER.unpack(header)
                body = _read_exact(sock, length - HEADER.size)
            except OSError:
                return
            if body is None:
                return
            if op_code != OP_MSG:
                log.error(
                    "fake MongoDB server: opcode %d is not supported (only OP_MSG); closing the connection",
                    op_code,
                )
                return
            try:
                flags, command = parse_op_msg(body)
            except (ValueError, bson.errors.BSONError) as exc:
                log.error("fake MongoDB server: malformed OP_MSG: %s", exc)
                return
            command["$connectionId"] = connection_id  # hello reports it, as mongod does
            reply = backend.run({k: v for k, v in command.items() if k not in _ENVELOPE or k == "$db"})
            if flags & MORE_TO_COME:  # an unacknowledged write: the client waits for no reply
                continue
            try:
                sock.sendall(encode_op_msg(next(self.server.request_ids), request_id, reply))
            except OSError:
                return


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    backend: Backend
    request_ids: itertools.count


class MongoServer:
    """The fake server in this process: `with MongoServer() as server: MongoClient(server.uri)`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the fake MongoDB server binds loopback addresses only, not {host}")
        self._tcp = _TCPServer((host, port), _Connection)
        self._tcp.backend = Backend()
        self._tcp.request_ids = itertools.count(1)
        self._thread: threading.Thread | None = None

    @property
    def backend(self) -> Backend:
        return self._tcp.backend

    @property
    def port(self) -> int:
        return self._tcp.server_address[1]

    @property
    def uri(self) -> str:
        host = self._tcp.server_address[0]
        return f"mongodb://{host if isinstance(host, str) else host.decode()}:{self.port}/"

    def start(self) -> MongoServer:
        self._thread = threading.Thread(
            target=self._tcp.serve_forever, kwargs={"poll_interval": 0.1}, name="fake-mongo", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._tcp.shutdown()
        self._tcp.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> MongoServer:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.mongo_server",
        description="A fake MongoDB server for tests (mongomock behind the wire protocol).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=27017, help="port to listen on; 0 picks a free one (default 27017)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not 0 <= args.port <= 65535:
        print(f"--port must be from 0 to 65535, got {args.port}", file=sys.stderr)
        return 2
    try:
        server = MongoServer(args.host, args.port)
    except ValueError as exc:
        print(f"--host: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"--port: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    server.start()
    print(f"listening on {server.port}", flush=True)
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
