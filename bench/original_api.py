"""A faithful stand-in for the original Glimpse API, for bench/api.py's side-by-side figures.

The original's source is not in this repository; its behaviour is described in
../shared/reference/original-glimpse-app-and-api.md (routes.py + actions.py).
This stand-in does what the original's three measured handlers did, the way
the reference describes them:

- `POST /glimpse/getUser`: checks `userKey` against the fixed key, then
  `Accounts.find_one({})` (it ignored `userMail`) and answers the whole
  document as JSON, ids in extended JSON (`{"$oid": ...}`).
- `POST /glimpse/ativos`: `type` "full" gives every OpenedActives document,
  "compact" the open ones; any other type the dict
  `{"res": "type must be compact or full"}`; no key.
- `GET /glimpse/getCandlesRealtime`: `{ativo, candles, lastUpdate}` for every
  RealtimeCandles document, `lastUpdate` being `lastUpdated` with its "."
  removed, cut to 13 digits.

Lists are answered as the original did, `json.dumps(list)` (the C encoder,
bson's `default` hook for the ObjectIds), as a text/html string. The
database is an in-memory mongomock seeded from this repository's
collections/, as the rewrite's embedded mode is, without the rewrite's lock
(the original talked to a MongoDB server, which needs none). It is served by
gunicorn with one gthread worker, with as many threads as the rewrite's API
(api/service.py).

One route that the original did not have, `POST /bench/load`, lets the
benchmark write the same candles and pairs it wrote through the rewrite's
service routes: `{collection: [documents]}` replaces those collections.

    .venv/bin/python bench/original_api.py --port 8001   # serve
    .venv/bin/python bench/original_api.py               # check the handlers in process, print JSON
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script: the project's packages, not bench/ (whose api.py would shadow the api package).
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() not in (ROOT, ROOT / "bench")]

import mongomock  # noqa: E402
from bson import json_util  # noqa: E402
from flask import Flask, request  # noqa: E402
from gunicorn.app.base import BaseApplication  # noqa: E402

from api.service import THREADS  # noqa: E402 (the same gunicorn settings as the API's)
from glimpse.store.seed import seed_database  # noqa: E402

KEY = "ASD123"  # the original's fixed key (checkKey)
LOADABLE = ("RealtimeCandles", "OpenedActives")


def create_app(db: Any) -> Flask:
    app = Flask("original_glimpse_api")

    def check_key(key: Any) -> bool | None:
        return False if key != KEY else None

    @app.route("/glimpse/ping", methods=["GET"])
    def ping() -> str:
        return "pong"

    @app.route("/glimpse/getUser", methods=["POST"])
    def get_user() -> Any:
        data = request.get_json()
        if check_key(data["userKey"]) is False:
            return {"res": False}
        _ = data["userMail"]  # read, and ignored, as the original did
        user = db["Accounts"].find_one({})
        if user is None:
            return {"err": "nothing found"}
        return json.dumps(user, default=json_util.default)

    @app.route("/glimpse/ativos", methods=["POST"])
    def ativos() -> Any:
        data = request.get_json()
        if data["type"] == "full":
            found = db["OpenedActives"].find({})
        elif data["type"] == "compact":
            found = db["OpenedActives"].find({"open": "True"})
        else:
            return {"res": "type must be compact or full"}
        return json.dumps(list(found), default=json_util.default)

    @app.route("/glimpse/getCandlesRealtime", methods=["GET"])
    def get_candles_realtime() -> Any:
        out = []
        for doc in db["RealtimeCandles"].find({}):
            last = str(doc["lastUpdated"]).replace(".", "")[:13]
            out.append({"ativo": doc["ativo"], "candles": doc["candles"], "lastUpdate": int(last)})
        return json.dumps(out)

    @app.route("/bench/load", methods=["POST"])
    def load() -> Any:
        data = request.get_json()
        for collection, docs in data.items():
            if collection not in LOADABLE:
                return {"error": f"{collection} is not loadable"}, 400
            db[collection].delete_many({})
            if docs:
                db[collection].insert_many(docs)
        return {"res": 1}

    return app


class _Gunicorn(BaseApplication):
    def __init__(self, app: Flask, host: str, port: int):
        self.application = app
        self.bind = f"{host}:{port}"
        super().__init__()

    def load_config(self) -> None:
        for key, value in {"bind": self.bind, "workers": 1, "worker_class": "gthread", "threads": THREADS,
                           "timeout": 60, "graceful_timeout": 5, "loglevel": "warning"}.items():  # fmt: skip
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def self_check() -> dict[str, Any]:
    """Without --port (as `make bench` runs every script here): the three handlers answer, in process."""
    db: Any = mongomock.MongoClient()["Glimpse"]
    seed_database(db)
    client = create_app(db).test_client()
    candles = [{"o": 1.0, "c": 1.1}] * 15
    client.post("/bench/load", json={"RealtimeCandles": [{"ativo": "EURUSD", "candles": candles,
                                                          "lastUpdated": 1717419600.123456}]})  # fmt: skip
    user = json.loads(client.post("/glimpse/getUser", json={"userKey": KEY, "userMail": "x"}).get_data())
    actives = json.loads(client.post("/glimpse/ativos", json={"type": "full"}).get_data())
    realtime = json.loads(client.get("/glimpse/getCandlesRealtime").get_data())
    checks = {
        "getUser answers the first account": "email" in user and set(user["_id"]) == {"$oid"},
        "ativos lists every seeded pair": len(actives) == db["OpenedActives"].count_documents({}) > 0,
        "getCandlesRealtime cuts lastUpdate to 13 digits": realtime[0]["lastUpdate"] == 1717419600123,
    }
    return {"benchmark": "original_api", "mode": "self-check (bench/api.py launches it with --port)",
            "checks": checks, "ok": all(checks.values())}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, help="serve on this port; without it, check the handlers and exit"
    )
    args = parser.parse_args(argv)
    if args.port is None:
        report = self_check()
        print(json.dumps(report, indent=2))
        return 0 if report["ok"] else 1
    db: Any = mongomock.MongoClient()["Glimpse"]
    seed_database(db)
    sys.argv = sys.argv[:1]  # gunicorn parses sys.argv
    _Gunicorn(create_app(db), args.host, args.port).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
