"""The embedded store's fast paths answer exactly as mongomock's own scans (issue 14).

The unique check by a value map (instead of a query per write) and the
set-based `$in` must refuse the same duplicates, roll back the same writes
and match the same documents as the code they replace.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from datetime import datetime

import pymongo
import pytest
from bson import Decimal128, ObjectId
from hypothesis import example, given, settings
from hypothesis import strategies as st

from glimpse.store import db as names
from glimpse.store.db import ensure_indexes, new_embedded_database


@pytest.fixture
def servers():
    db = new_embedded_database("FastPaths")
    ensure_indexes(db)
    collection = db[names.SERVERS]
    collection.insert_many([{"name": f"s{i}", "incarnation": "a", "uptime": 0} for i in range(20)])
    return collection


def test_a_duplicate_insert_is_refused_and_leaves_nothing(servers):
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        servers.insert_one({"name": "s3", "incarnation": "b"})
    assert servers.count_documents({"name": "s3"}) == 1
    assert servers.count_documents({"incarnation": "b"}) == 0


def test_an_update_onto_a_taken_value_is_refused_and_rolled_back(servers):
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        servers.update_one({"name": "s4"}, {"$set": {"name": "s5", "uptime": 9}})
    assert servers.find_one({"name": "s4"}, {"_id": 0}) == {"name": "s4", "incarnation": "a", "uptime": 0}
    # The rolled-back document still holds its value: taking it again is refused too.
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        servers.insert_one({"name": "s4"})


def test_a_value_given_up_can_be_taken(servers):
    servers.update_one({"name": "s1"}, {"$set": {"name": "renamed"}})
    servers.insert_one({"name": "s1"})  # s1 is free now
    servers.delete_one({"name": "s2"})
    servers.insert_one({"name": "s2"})
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        servers.insert_one({"name": "renamed"})
    servers.drop()
    ensure_indexes(servers.database)
    servers.insert_one({"name": "renamed"})  # a dropped collection holds nothing
    assert servers.count_documents({}) == 1


def test_an_upsert_onto_a_taken_value_is_refused(servers):
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        servers.update_one({"incarnation": "zzz"}, {"$set": {"name": "s7"}}, upsert=True)
    assert servers.count_documents({"name": "s7"}) == 1


def test_many_writes_that_leave_the_unique_field_alone_pass(servers):
    result = servers.update_many({"incarnation": "a"}, {"$set": {"uptime": 5}})
    assert result.modified_count == 20
    assert servers.count_documents({"uptime": 5}) == 20


def test_object_ids_and_strings_are_checked_apart():
    db = new_embedded_database("FastPathsIds")
    ensure_indexes(db)
    code = ObjectId()
    db[names.CODES].insert_one({"code": code})
    db[names.CODES].insert_one({"code": str(code)})  # a string is not the ObjectId
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        db[names.CODES].insert_one({"code": code})
    db[names.CODES].insert_one({"code": 7})
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        db[names.CODES].insert_one({"code": 7})


VALUES = st.one_of(
    st.sampled_from(["a", "b", "c", "d"]),
    st.sampled_from([ObjectId("0" * 23 + str(i)) for i in range(4)]),
    st.integers(0, 3),
    st.none(),
    st.lists(st.sampled_from(["a", "b"]), max_size=2),
)


@settings(max_examples=60, deadline=None)
@given(stored=st.lists(VALUES, max_size=25), wanted=st.lists(VALUES, min_size=0, max_size=20))
def test_in_matches_what_a_plain_comparison_matches(stored, wanted):
    db = new_embedded_database("FastIn")
    collection = db["Things"]
    if stored:
        collection.insert_many([{"i": i, "v": v} for i, v in enumerate(stored)])
    found = {doc["i"] for doc in collection.find({"v": {"$in": wanted}})}
    # mongomock's rule: any of the document's values (its elements, for a list) is in the list.
    expected = {
        i for i, v in enumerate(stored) if any(e in wanted for e in (v if isinstance(v, list) else [v]))
    }
    assert found == expected


def test_in_sees_a_list_changed_between_two_queries():
    db = new_embedded_database("FastInChanged")
    collection = db["Things"]
    collection.insert_many([{"v": f"x{i}"} for i in range(30)])
    wanted = [f"x{i}" for i in range(10)]
    assert collection.count_documents({"v": {"$in": wanted}}) == 10
    wanted[0] = "nothing"  # the same list object, changed in place
    assert collection.count_documents({"v": {"$in": wanted}}) == 9


def test_find_by_ids_answers_as_a_find_with_in():
    from glimpse.store.db import find_by_ids

    db = new_embedded_database("ByIds")
    collection = db["Things"]
    ids = [ObjectId() for _ in range(12)]
    collection.insert_many([{"_id": i, "n": k, "deep": {"k": [k]}} for k, i in enumerate(ids)])
    wanted = [ids[3], ids[7], ObjectId(), ids[3], "not-an-id", ids[11]]
    for projection in (None, {"n": 1}, {"deep": 0}, {"n": 1, "_id": 0}):
        expected = list(collection.find({"_id": {"$in": wanted}}, projection))
        found = find_by_ids(collection, wanted, projection)
        assert sorted(found, key=repr) == sorted(expected, key=repr) and len(found) == 3
    # The answer is a copy: changing it changes nothing stored.
    (doc,) = find_by_ids(collection, [ids[0]])
    doc["deep"]["k"].append(99)
    assert collection.find_one({"_id": ids[0]})["deep"] == {"k": [0]}


_IDS = st.one_of(st.integers(-5, 5), st.sampled_from(["a", "b", "c"]), st.builds(ObjectId))
_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-9, 9), st.text(max_size=3)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("xyz"), inner, max_size=3)
    ),
    max_leaves=6,
)
_PROJECTIONS = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["p", "q", "r"]), st.just(1), min_size=1),  # inclusion
    st.dictionaries(st.sampled_from(["p", "q", "r"]), st.just(0), min_size=1),  # exclusion
    st.dictionaries(st.sampled_from(["p", "q"]), st.just(1), min_size=1).map(lambda p: {**p, "_id": 0}),
    st.sampled_from([{"_id": 1}, {"_id": 0}]),  # the id alone; everything but the id
)


@settings(max_examples=150, deadline=None)
@given(
    docs=st.dictionaries(_IDS, st.dictionaries(st.sampled_from(["p", "q", "r"]), _VALUES), max_size=5),
    wanted=_IDS,
    projection=_PROJECTIONS,
)
def test_find_one_by_id_answers_as_a_scan_does(docs, wanted, projection):
    collection = new_embedded_database("FindOne")["things"]
    for key, fields in docs.items():
        collection.insert_one({"_id": key, **fields})
    scanned = next(iter(collection.find({"_id": wanted}, projection)), None)  # mongomock's own path
    assert collection.find_one({"_id": wanted}, projection) == scanned
    assert collection.find_one({"_id": wanted}, projection=projection) == scanned
    found = collection.find_one({"_id": wanted})
    if found is not None:
        # A copy: changing it leaves the stored document as it was.
        found["p"] = "changed"
        assert (
            collection.find_one({"_id": wanted}).get("p") != "changed" or docs[wanted].get("p") == "changed"
        )


@settings(max_examples=150, deadline=None)
@given(
    docs=st.dictionaries(_IDS, st.dictionaries(st.sampled_from(["p", "q", "r"]), _VALUES), max_size=5),
    projection=_PROJECTIONS,
)
def test_every_document_answers_as_a_find_of_everything(docs, projection):
    from glimpse.store.db import every_document

    collection = new_embedded_database("Every")["things"]
    for key, fields in docs.items():
        collection.insert_one({"_id": key, **fields})

    def by_content(doc: dict) -> str:  # the field order of a copy is not part of the answer
        return repr(sorted(doc.items(), key=repr))

    expected = sorted(collection.find({}, projection), key=by_content)  # mongomock's own path
    found = every_document(collection, projection)
    assert sorted(found, key=by_content) == expected
    for doc in found:  # copies: changing them leaves the stored documents as they were
        doc.clear()
    assert sorted(every_document(collection, projection), key=by_content) == expected


_PATCHABLE = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-9, 9),
        st.floats(allow_nan=False),
        st.text(max_size=3),
        st.builds(ObjectId),
        st.datetimes(),  # truncated to milliseconds by mongomock
        st.tuples(st.integers(0, 2)),  # a tuple becomes a list
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from("xyz"), inner, max_size=3),
        st.dictionaries(st.sampled_from("xyz"), inner, max_size=3).map(lambda d: OrderedDict(d)),
    ),
    max_leaves=12,
)


@given(value=_PATCHABLE)
def test_date_patching_gives_what_mongomocks_own_gives(value):
    from mongomock import helpers

    fast = helpers.patch_datetime_awareness_in_document
    slow = getattr(fast, "glimpse_slow")  # noqa: B009 (an attribute mypy cannot see)
    try:
        helpers.patch_datetime_awareness_in_document = slow  # its recursion, all the way down
        expected = slow(value)
    finally:
        helpers.patch_datetime_awareness_in_document = fast
    got = fast(value)
    assert got == expected
    assert _ordered(got) == _ordered(expected)  # the same container types (an OrderedDict stays one)


def test_mongomock_compares_pymongos_version_with_parsed_versions_once_each():
    from mongomock import collection
    from packaging.version import Version

    assert collection.version.parse("4.0") is collection.version.parse("4.0")  # cached, not re-parsed
    assert isinstance(collection.version.parse("4.0"), Version)


# --- updates by _id -----------------------------------------------------------------------------

# Paths into arrays and deeper documents too (a session's `operating.tries.0.result`, a log's
# `operations.1.operacoes.0.p`): positions that are there and that are not, numbers naming a
# document's field, and a field and a path into it in one update.
_FIELDS = st.sampled_from([
    "a", "b", "c", "sub.x", "sub.y", "list", "list.0", "list.1", "list.5", "list.x", "sub.0",
    "tries.0.x", "tries.1.y", "tries.0.deep.x", "tries.2", "tries.00.x", "tries.0", "sub.x.y", "missing.x",
])  # fmt: skip
_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(-2, 2), st.text("pq", max_size=2))
_SET_VALUES = st.one_of(
    _SCALAR, st.lists(_SCALAR, max_size=2), st.dictionaries(st.sampled_from("xy"), _SCALAR)
)


def _updates(fields: st.SearchStrategy[str], most: int) -> st.SearchStrategy[dict]:
    """Updates of up to `most` operators of up to `most` fields each, each value one its operator takes."""
    return st.dictionaries(
        st.sampled_from(["$set", "$inc", "$unset", "$push"]),
        st.dictionaries(fields, _SET_VALUES, min_size=1, max_size=most),
        min_size=1,
        max_size=most,
    ).map(
        lambda u: {
            op: {
                f: (
                    v if op in ("$set", "$unset") else
                    (v if type(v) in (int, float) else 1) if op == "$inc" else
                    ({"$each": v, "$slice": -2} if isinstance(v, list) else v)
                )
                for f, v in fields.items()
            }
            for op, fields in u.items()
        }
    )  # fmt: skip


_UPDATES = _updates(_FIELDS, 3)
_STORED = st.fixed_dictionaries(
    {},
    optional={
        "a": _SCALAR,
        "b": st.one_of(_SCALAR, st.lists(_SCALAR, max_size=2)),
        "c": st.text("pq", max_size=2),
        "sub": st.one_of(st.dictionaries(st.sampled_from("xy"), _SCALAR), _SCALAR),
        "list": st.lists(_SCALAR, max_size=3),
        "tries": st.lists(
            st.one_of(
                _SCALAR,
                st.fixed_dictionaries(
                    {}, optional={"x": _SCALAR, "deep": st.dictionaries(st.sampled_from("xy"), _SCALAR)}
                ),
            ),
            max_size=3,
        ),
    },
)
_FILTERS = st.fixed_dictionaries(
    {},
    optional={
        "c": st.text("pq", max_size=2),
        "a": st.one_of(_SCALAR, st.just({"$ne": None})),
        # a path: matched into the document
        "sub.x": st.one_of(_SCALAR, st.just({"$exists": True}), st.just({"$gte": 0}), st.just({"$lte": 1.5})),
        "list": st.one_of(st.just({"$ne": "p"}), st.just({"$ne": ObjectId("0" * 24)})),
        "$or": st.just([{"a": None}, {"c": "p"}]),
    },
)


def _outcome(call):
    try:
        return ("ok", call())
    except Exception as exc:  # the same refusal, of the same kind, is the same answer
        return ("error", type(exc).__name__)


def _both_ways(docs, filter_, update, which, projection=None):
    """The update made by the fast path and by mongomock's own, each on its own copy of `docs`:
    (fast answer, mongomock's answer, fast collection, mongomock's collection)."""
    from mongomock.collection import Collection

    db = new_embedded_database("FastUpdates")
    fast_side, slow_side = db["fast"], db["slow"]
    for side in (fast_side, slow_side):
        side.insert_many(copy.deepcopy(docs))

    def run(side, update_one, modify):
        if which == "update_one":
            result = update_one(side._target, filter_, update)
            return (result.matched_count, result.modified_count)
        after = pymongo.ReturnDocument.AFTER if which == "after" else pymongo.ReturnDocument.BEFORE
        return modify(side._target, filter_, update, projection, return_document=after)

    fast = _outcome(lambda: run(fast_side, Collection.update_one, Collection.find_one_and_update))
    slow_update = getattr(Collection.update_one, "glimpse_slow")  # noqa: B009 (mypy cannot see it)
    slow_modify = getattr(Collection.find_one_and_update, "glimpse_slow")  # noqa: B009
    slow = _outcome(lambda: run(slow_side, slow_update, slow_modify))
    return fast, slow, fast_side, slow_side


@settings(max_examples=600, deadline=None)
@given(
    stored=_STORED, extra=_FILTERS, update=_UPDATES, which=st.sampled_from(["update_one", "before", "after"])
)
# An $unset of a missing field beside a $set of an equal value of another type: nothing modified.
@example(stored={"b": 0}, extra={}, update={"$unset": {"a": None}, "$set": {"b": False}}, which="update_one")
def test_an_update_by_id_leaves_what_mongomocks_own_update_leaves(stored, extra, update, which):
    # With _id in the projection: mongomock takes an empty projected document for no match.
    fast, slow, fast_side, slow_side = _both_ways(
        [{"_id": 7, **stored}, {"_id": 8, "a": 1}], {"_id": 7, **extra}, update, which, {"a": 1}
    )
    assert fast == slow
    assert list(fast_side.find({}, {"_id": 0})) == list(slow_side.find({}, {"_id": 0}))
    assert [list(d) for d in fast_side.find()] == [list(d) for d in slow_side.find()]  # field order too


_NESTED_FIELDS = st.sampled_from([
    "tries.0.x", "tries.1.x", "tries.2.x", "tries.0.deep.x", "tries.1.deep.y", "tries.0.arr", "tries.1.arr",
    "tries.0.arr.0", "sub.x.y", "sub.y.x", "n.0", "n.1", "tries.3.x",
])  # fmt: skip
_NESTED_UPDATES = _updates(_NESTED_FIELDS, 2)
_NESTED_STORED = st.fixed_dictionaries(
    {
        "tries": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "x": _SCALAR,
                    "deep": st.dictionaries(st.sampled_from("xy"), _SCALAR),
                    "arr": st.lists(_SCALAR, max_size=2),
                },
            ),
            min_size=1,
            max_size=3,
        ),
        "sub": st.dictionaries(
            st.sampled_from("xy"), st.one_of(st.dictionaries(st.sampled_from("xy"), _SCALAR), _SCALAR)
        ),
        "n": st.lists(st.integers(-3, 3), max_size=2),
    }
)


@settings(max_examples=400, deadline=None)
@given(
    stored=_NESTED_STORED, update=_NESTED_UPDATES, which=st.sampled_from(["update_one", "before", "after"])
)
def test_an_update_of_paths_into_arrays_and_documents_leaves_what_mongomocks_own_update_leaves(
    stored, update, which
):
    # A session's `operating.tries.0.result`, a log's `operations.1.operacoes.0.p`: made here, as
    # mongomock makes them (and left to mongomock where the position is not there).
    fast, slow, fast_side, slow_side = _both_ways([{"_id": 7, **stored}], {"_id": 7}, update, which)
    assert fast == slow
    assert list(fast_side.find()) == list(slow_side.find())
    assert [_ordered(d) for d in fast_side.find()] == [_ordered(d) for d in slow_side.find()]


def _ordered(value):
    """The value with its documents' field order and every type spelled out (== compares neither)."""
    if isinstance(value, dict):
        return (type(value), [(k, _ordered(v)) for k, v in value.items()])
    if isinstance(value, list):
        return (list, [_ordered(v) for v in value])
    return (type(value), value)


def test_an_update_onto_a_taken_unique_value_by_id_is_refused_and_rolled_back(servers):
    taken = servers.find_one({"name": "s5"})
    target = servers.find_one({"name": "s4"})
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        servers.update_one({"_id": target["_id"]}, {"$set": {"name": "s5", "uptime": 9}})
    assert servers.find_one({"_id": target["_id"]}) == target
    assert servers.find_one({"name": "s5"}) == taken
    servers.update_one({"_id": target["_id"]}, {"$set": {"name": "s4b"}})  # its old value is free again
    servers.insert_one({"name": "s4"})
    assert servers.count_documents({"name": {"$in": ["s4", "s4b"]}}) == 2


def test_the_order_paths_updates_are_made_without_mongomocks_update(monkeypatch):
    from mongomock.collection import Collection

    db = new_embedded_database("FastUpdates")
    accounts = db["accounts"]
    accounts.insert_one({"_id": "ana@example.com", "cents": {"PRACTICE": 1000}, "open": [], "keys": ["k0"]})
    db["trades"].insert_one({"_id": 1, "status": "pending"})

    def refuse(*args, **kwargs):
        raise AssertionError("mongomock's own update ran")

    monkeypatch.setattr(Collection, "_update", refuse)
    taken = accounts.find_one_and_update(
        {"_id": "ana@example.com", "cents.PRACTICE": {"$gte": 200}, "keys": {"$ne": "k1"}},
        {
            "$inc": {"cents.PRACTICE": -200},
            "$push": {"open": {"id": 5}, "keys": {"$each": ["k1"], "$slice": -1}},
        },
        projection={"_id": 1},
    )
    assert taken == {"_id": "ana@example.com"}
    assert accounts.find_one({"_id": "ana@example.com"}, {"_id": 0}) == {
        "cents": {"PRACTICE": 800}, "open": [{"id": 5}], "keys": ["k1"]
    }  # fmt: skip
    marked = db["trades"].update_one(
        {"_id": 1, "status": "pending"}, {"$set": {"status": "open", "placedAt": 1.5}}
    )
    assert (marked.matched_count, marked.modified_count) == (1, 1)
    again = db["trades"].update_one({"_id": 1, "status": "pending"}, {"$set": {"status": "open"}})
    assert (again.matched_count, again.modified_count) == (0, 0)


_LEDGER_VALUES = st.one_of(
    st.sampled_from(["open", "closed", "pending", "s1", "s2"]), st.none(), st.integers(0, 2)
)
_LEDGER_ROWS = st.lists(
    st.fixed_dictionaries(
        {"user": st.sampled_from(["u1", "u2"]), "decidedAt": st.integers(0, 9)},
        optional={
            "status": st.one_of(_LEDGER_VALUES, st.lists(_LEDGER_VALUES, max_size=2)),
            "session": _LEDGER_VALUES,
            "flagged": st.booleans(),
        },
    ),
    max_size=12,
)
_LEDGER_QUERIES = st.sampled_from(
    [
        {
            "user": "u1",
            "status": {"$in": ["pending", "open"]},
            "$or": [{"flagged": {"$ne": True}}, {"session": "s1"}],
        },
        {"user": "u1", "session": "s1", "status": "closed"},
        {"user": "u2", "status": {"$in": ["closed", 1]}},  # not only strings: the matcher alone
        {"user": "u1", "$and": [{"session": {"$in": ["s1", "s2"]}}, {"status": "open"}]},
    ]
)


@settings(max_examples=150, deadline=None)
@given(rows=_LEDGER_ROWS, query=_LEDGER_QUERIES, limit=st.sampled_from([None, 1, 2]))
def test_an_indexed_read_of_a_users_trades_answers_as_a_scan_does(rows, query, limit):
    from glimpse.store.db import indexed_find

    db = new_embedded_database("IndexedLedger")
    trades = db["trades"]
    if rows:
        trades.insert_many([dict(r) for r in rows])
    found = indexed_find(trades, query, "decidedAt", 1, None, limit, {"_id": 1})
    cursor = trades.find(query, {"_id": 1}).sort([("decidedAt", 1), ("_id", 1)])
    assert found == list(cursor.limit(limit) if limit else cursor)


# --- one condition of a filter by _id, matched without mongomock ----------------------------------

_OIDS = [ObjectId("0" * 23 + str(i)) for i in range(3)]
_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(-3, 3),
    st.just(float("nan")),
    st.just(2**40),
    st.text("kl", max_size=2),
    st.sampled_from(_OIDS),
)
_HELD = st.one_of(
    _LEAF,
    st.lists(_LEAF, max_size=4),
    st.lists(
        st.one_of(_LEAF, st.lists(_LEAF, max_size=2), st.dictionaries(st.sampled_from("xy"), _LEAF)),
        max_size=3,
    ),
    st.dictionaries(
        st.sampled_from(["P", "R", "0"]), st.one_of(_LEAF, st.lists(_LEAF, max_size=2)), max_size=3
    ),
)
_OPERAND = st.one_of(_LEAF, st.lists(_LEAF, max_size=2))
_NAMES = st.one_of(st.text("kl", max_size=2), st.sampled_from(_OIDS))
_CONDITION = st.one_of(
    _OPERAND,
    st.builds(lambda op, v: {op: v}, st.sampled_from(["$gte", "$lte", "$gt", "$eq"]), _OPERAND),
    st.builds(lambda v: {"$ne": v}, st.one_of(_NAMES, _OPERAND)),
    st.builds(lambda v: {"$in": v}, st.one_of(st.lists(_NAMES, max_size=3), st.lists(_LEAF, max_size=2))),
)
_PATHS = st.sampled_from(["k", "c", "c.P", "c.R", "c.0", "k.P", "c.P.x", "c..P", "$k"])


@settings(max_examples=1500, deadline=None)
@given(
    stored=st.dictionaries(st.sampled_from(["k", "c"]), _HELD, max_size=2), field=_PATHS, condition=_CONDITION
)
def test_one_condition_matched_here_matches_as_mongomocks_matcher(stored, field, condition):
    from mongomock.filtering import filter_applies

    from glimpse.store.db import condition_holds

    doc = {"_id": 1, **stored}
    verdict = condition_holds(doc, field, condition)
    if verdict is not None:
        if field.startswith("$"):
            raise AssertionError("an operator at the top was answered here")
        assert verdict == filter_applies({field: condition}, doc)


@settings(max_examples=600, deadline=None)
@given(
    held=st.one_of(
        st.just({}), st.builds(lambda v: {"k": v}, st.one_of(_NAMES, _LEAF, st.lists(_NAMES, max_size=3)))
    ),
    condition=st.one_of(
        _NAMES,
        st.builds(lambda v: {"$ne": v}, _NAMES),
        st.builds(lambda v: {"$in": v}, st.lists(_NAMES, max_size=3)),
        st.builds(
            lambda op, v: {op: v},
            st.sampled_from(["$gte", "$lte"]),
            st.one_of(st.integers(-3, 3), st.floats(-3, 3)),
        ),
    ),
)
def test_a_condition_on_names_or_numbers_matches_as_mongomocks_matcher(held, condition):
    from mongomock.filtering import filter_applies

    from glimpse.store.db import condition_holds

    doc = {"_id": 1, **held}
    verdict = condition_holds(doc, "k", condition)
    if verdict is not None:
        assert verdict == filter_applies({"k": condition}, doc)


@pytest.mark.parametrize(
    "stored, condition",
    [
        ({"cents": {"PRACTICE": 1000}, "keys": [f"k{i}" for i in range(3000)]}, True),
        ({"cents": {"PRACTICE": 100}, "keys": []}, False),  # not enough money
        ({"cents": {"PRACTICE": 1000}, "keys": ["k1", "new"]}, False),  # the key was placed
        ({"cents": {"PRACTICE": 1000.5}}, True),  # no key yet; a float balance
        ({"cents": {"REAL": 1000}, "keys": ["k1"]}, False),  # no balance in that mode
    ],
)
def test_the_paper_brokers_buy_filter_is_matched_without_mongomocks_matcher(monkeypatch, stored, condition):
    db = new_embedded_database("FastFilter")
    accounts = db["accounts"]
    accounts.insert_one({"_id": "ana@example.com", "open": [], **stored})

    def refuse(*args, **kwargs):
        raise AssertionError("mongomock's matcher ran")

    monkeypatch.setattr(names, "_mongomock_matches", refuse)
    taken = accounts.find_one_and_update(
        {"_id": "ana@example.com", "cents.PRACTICE": {"$gte": 200}, "keys": {"$ne": "new"}},
        {"$inc": {"cents.PRACTICE": -200}, "$push": {"keys": {"$each": ["new"], "$slice": -5000}}},
        projection={"_id": 1},
    )
    assert (taken is not None) == condition


def test_the_ledgers_mark_open_is_matched_without_mongomocks_matcher(monkeypatch):
    from glimpse.store import trades

    db = new_embedded_database("FastFilter")
    ids = [
        db[names.TRADES].insert_one({"status": status}).inserted_id
        for status in ("pending", "unknown", "open")
    ]

    def refuse(*args, **kwargs):
        raise AssertionError("mongomock's matcher ran")

    monkeypatch.setattr(names, "_mongomock_matches", refuse)
    marked = [
        trades.mark_open(db, trade_id, 7, 1.5, 1.1, expires_at=60.0, quote_source="broker")
        for trade_id in ids
    ]
    assert marked == [True, True, False]  # an open trade is not marked again
    assert db[names.TRADES].count_documents({"status": "open", "brokerOrderId": 7}) == 2


# --- inserts of flat documents ------------------------------------------------------------------

_INSERT_VALUES = st.one_of(
    _SCALAR,
    st.integers(min_value=2**63 - 2, max_value=2**64),  # beyond int64: BSON refuses it
    st.sampled_from([ObjectId("0" * 24), b"x", "a\0b"]),
    # Levels below: plain ones are copied here, the others (a date, a key with NUL, a string that
    # is not ASCII, a third level) go through mongomock's walk.
    st.dictionaries(st.sampled_from(["x", "y", "n\0ul", "$op"]), _SCALAR, max_size=2),
    st.lists(st.one_of(_SCALAR, st.dictionaries(st.sampled_from("xy"), _SCALAR, max_size=1)), max_size=2),
    st.sampled_from([{"x": datetime(2024, 1, 1, 0, 0, 0, 1234)}, ["ação"], [[[1]]], {"x": {"y": {"z": 1}}}]),
)
_INSERT_DOCS = st.dictionaries(
    st.sampled_from(["_id", "name", "a", "b", "$bad", "nul\0l", "a\x01$b"]), _INSERT_VALUES, max_size=4
).map(lambda d: {**d, "_id": d["_id"]} if "_id" in d and type(d["_id"]) in (int, str) else
      {k: v for k, v in d.items() if k != "_id"})  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    first=st.lists(_INSERT_DOCS, max_size=3),
    batch=st.lists(_INSERT_DOCS, min_size=1, max_size=4),
    how=st.sampled_from(["one", "ordered", "unordered"]),
)
# A date a level below, which mongomock's copy rounds to the millisecond; plain levels below.
@example(first=[], batch=[{"a": {"x": datetime(2024, 1, 1, 0, 0, 0, 1234)}, "b": [{"x": 1}, "p"]}], how="one")
def test_an_insert_stores_and_refuses_what_mongomocks_own_insert_does(first, batch, how):
    from mongomock.collection import Collection

    db = new_embedded_database("FastInserts")
    fast_side, slow_side = db["fast"], db["slow"]
    for side in (fast_side, slow_side):
        side.create_index("name", unique=True)
        side.create_index([("a", 1), ("b", -1)])
    slow_insert = getattr(Collection._insert, "glimpse_slow")  # noqa: B009 (mypy cannot see it)

    def run(side, insert):
        docs = [dict(d) for d in batch]
        for doc in first:
            _outcome(lambda doc=doc: insert(side._target, dict(doc)))
        if how == "one":
            outcomes = [_outcome(lambda doc=doc: insert(side._target, doc)) for doc in docs]
        else:
            outcomes = [_outcome(lambda: insert(side._target, docs, ordered=how == "ordered"))]
        # The caller's documents get their ids, as pymongo fills them: the generated ids differ.
        shape = [sorted(d) for d in docs]
        return outcomes, shape

    fast_outcomes, fast_shape = run(fast_side, Collection._insert)
    slow_outcomes, slow_shape = run(slow_side, slow_insert)

    def without_generated_ids(outcomes):
        return [(kind, [v for v in value if type(v) is not ObjectId] if type(value) is list else
                 (None if type(value) is ObjectId else value)) for kind, value in outcomes]  # fmt: skip

    assert without_generated_ids(fast_outcomes) == without_generated_ids(slow_outcomes)
    assert fast_shape == slow_shape
    stored_fast = [
        _ordered({k: v for k, v in d.items() if type(v) is not ObjectId}) for d in fast_side.find()
    ]
    stored_slow = [
        _ordered({k: v for k, v in d.items() if type(v) is not ObjectId}) for d in slow_side.find()
    ]
    assert stored_fast == stored_slow
    assert [list(d) for d in fast_side.find()] == [list(d) for d in slow_side.find()]  # field order too
    # The sorted index of a later indexed read sees the same documents.
    assert fast_side.count_documents({"a": {"$gte": 0}}) == slow_side.count_documents({"a": {"$gte": 0}})


def test_a_flat_insert_is_made_without_mongomocks_walk(monkeypatch):
    from mongomock import collection

    from glimpse.store.notifications import QUEUE

    db = new_embedded_database("FastInserts")

    def refuse(*args, **kwargs):
        raise AssertionError("mongomock's own insert checks ran")

    monkeypatch.setattr(collection, "_validate_data_fields", refuse)
    trades = db[names.TRADES]
    doc = {"user": "u1", "status": "pending", "amount": 500, "payout": 87, "placedAt": None, "at": 1.5}
    trades.insert_many([doc, {"user": "u2", "status": "pending"}], ordered=False)
    assert type(doc["_id"]) is ObjectId  # the caller's document gets its id
    stored = trades.find_one({"_id": doc["_id"]})
    assert stored == doc and stored is not doc
    doc["status"] = "changed"  # the store kept a copy
    assert trades.find_one({"_id": doc["_id"]})["status"] == "pending"
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        trades.insert_one({"_id": doc["_id"], "user": "u3"})
    # A queued notification: its data, one plain document, is copied too.
    data: dict = {"ativo": "EURUSD", "net": -200, "levels": [1, 2]}
    event = {"user": "u1", "event": "cycleResult", "data": data}
    db[QUEUE].insert_one(event)
    data["net"] = 0
    data["levels"].append(3)
    assert db[QUEUE].find_one({"_id": event["_id"]})["data"] == {
        "ativo": "EURUSD",
        "net": -200,
        "levels": [1, 2],
    }


def test_a_collection_handle_is_kept_and_sees_every_write_and_drop():
    db = new_embedded_database("Handles")
    first = db["things"]
    assert db["things"] is first  # kept: mongomock hands out the same collection for a name
    assert first.insert_one is first.insert_one
    db["things"].insert_one({"_id": 1})
    assert first.count_documents({}) == 1
    db.drop_collection("things")
    assert first.count_documents({}) == 0
    first.insert_one({"_id": 2})
    assert [d["_id"] for d in db["things"].find()] == [2]
    assert db.with_options() is not db  # another handle: its collections are its own


@pytest.mark.parametrize(
    "pushed",
    [{"$each": [1]}, {"$each": [1], "$slice": -1}, {"a": 1, "$x": 2}, {"a\x01$b": 1}, {"a": 1}, {}, {1: 2}],
)
def test_a_pushed_document_has_an_operator_when_a_key_starts_with_a_dollar(pushed):
    from glimpse.store.db import _has_operator

    def generic():
        return any(k.startswith("$") for k in pushed)

    expected: tuple[str, object]
    got: tuple[str, object]
    try:
        expected = ("ok", generic())
    except AttributeError:
        expected = ("error", "AttributeError")
    try:
        got = ("ok", _has_operator(pushed))
    except AttributeError:
        got = ("error", "AttributeError")
    assert got == expected


# Values as updates set or push them: nested lists and documents, with what BSON refuses among them
# (a lone surrogate, an integer beyond int64, a key with NUL or that is no string) and what it holds.
_ODD_TEXT = st.sampled_from(["\ud800", "a\x00", "é", "$x", "a.b"])
_BSONISH = st.recursive(
    st.one_of(
        st.text(max_size=3),
        _ODD_TEXT,
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(),
        st.booleans(),
        st.none(),
        st.binary(max_size=2),
        st.just(ObjectId("0" * 24)),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.text(max_size=2), _ODD_TEXT, st.integers(0, 3)), inner, max_size=3),
    ),
    max_leaves=10,
)


@settings(max_examples=600, deadline=None)
@given(value=_BSONISH)
def test_a_value_is_taken_as_encodable_exactly_when_bson_encodes_it(value):
    import bson

    from glimpse.store.db import encodable

    try:
        bson.encode({"v": value})
        holds = True
    except Exception:
        holds = False
    assert encodable(value) == holds


# A paper account's settlement pulls its order from `open` by id: the elements and the condition in
# every type the fast path takes or leaves to mongomock (numbers of other types, lists, no document),
# drawn from a few values so that they often meet.
_OID = ObjectId("0" * 24)
_PULLED_ID = st.sampled_from([1, 2, 1.0, True, "p", _OID])
_HELD_ID = st.one_of(_PULLED_ID, st.sampled_from([[1], [1.0, 2], ["p"], [_OID], []]))
_OPEN = st.lists(
    st.one_of(st.fixed_dictionaries({}, optional={"id": _HELD_ID, "x": _PULLED_ID}), _PULLED_ID), max_size=4
)


@settings(max_examples=500, deadline=None)
@given(
    open_=st.one_of(_OPEN, _SCALAR),
    has_open=st.booleans(),
    wanted=st.one_of(_PULLED_ID, st.just({"$gt": 0})),
    field=st.sampled_from(["id", "x", "id.y", "$id"]),
    others=st.booleans(),
    which=st.sampled_from(["update_one", "before", "after"]),
)
def test_a_pull_by_one_field_leaves_what_mongomocks_own_update_leaves(
    open_, has_open, wanted, field, others, which
):
    stored = {"_id": 7, "cents": 10, "settled": [1], **({"open": open_} if has_open else {})}
    update: dict = {"$pull": {"open": {field: wanted}}}
    if others:  # as a settlement makes it: the credit and the record beside the pull
        update |= {"$inc": {"cents": 5}, "$push": {"settled": {"$each": [2], "$slice": -2}}}
    fast, slow, fast_side, slow_side = _both_ways([stored], {"_id": 7}, update, which)
    assert fast == slow
    assert [_ordered(d) for d in fast_side.find()] == [_ordered(d) for d in slow_side.find()]


def test_a_settlements_pull_of_its_order_is_made_without_mongomocks_update(monkeypatch):
    from mongomock.collection import Collection

    db = new_embedded_database("Pull")
    accounts = db["PaperBalances"]
    accounts.insert_one({"_id": "a", "cents": {"PRACTICE": 0}, "open": [{"id": 1}, {"id": 2}], "settled": []})
    monkeypatch.setattr(Collection, "_update", lambda *a, **k: pytest.fail("mongomock made the update"))
    done = accounts.update_one(
        {"_id": "a", "open.id": 1},
        {
            "$pull": {"open": {"id": 1}},
            "$inc": {"cents.PRACTICE": 374},
            "$push": {"settled": {"$each": [{"id": 1}], "$slice": -500}},
        },
    )
    assert done.modified_count == 1
    assert accounts.find_one({"_id": "a"}, {"_id": 0}) == {
        "cents": {"PRACTICE": 374},
        "open": [{"id": 2}],
        "settled": [{"id": 1}],
    }


_STORED_KEY = st.sampled_from(["k1", "new", "açaí-1"])
_KEY = st.one_of(_STORED_KEY, st.just("\ud800"))  # a lone surrogate: no store holds it
_BALANCE = st.one_of(
    st.integers(-5, 400),
    st.integers(2**63 - 3, 2**63 - 1).map(lambda v: -v),  # a stake taken from it leaves no int64
    st.floats(allow_nan=True, allow_infinity=False, width=32),
    st.sampled_from([True, None, "300", Decimal128("300")]),
)
_ACCOUNTS = st.fixed_dictionaries(
    {},
    optional={
        "cents": st.one_of(
            st.fixed_dictionaries({}, optional={"REAL": st.just(0), "PRACTICE": _BALANCE}),
            st.sampled_from([[{"PRACTICE": 300}], 300, None]),
        ),
        "open": st.one_of(st.lists(st.fixed_dictionaries({"id": st.integers(1, 3)}), max_size=2), st.none()),
        "keys": st.one_of(
            st.lists(st.one_of(_STORED_KEY, st.integers(0, 2), st.none(), st.just(["new"])), max_size=4),
            st.sampled_from(["new", None]),
        ),
        "settled": st.lists(st.just({"id": 9}), max_size=1),
    },
)


@settings(max_examples=600, deadline=None)
@given(
    stored=_ACCOUNTS,
    stake=st.integers(0, 300),
    key=_KEY,
    price=st.floats(allow_nan=True, allow_infinity=False),
    kept=st.integers(1, 5),
)
def test_a_paper_buy_made_by_its_function_leaves_what_mongomocks_own_update_leaves(
    stored, stake, key, price, kept
):
    # The paper broker's buy on the embedded store: its filter and update as one function of the stored
    # account (paper._buy, names.change_by_id), or the update itself when that function cannot say.
    from mongomock.collection import Collection

    from glimpse.market import paper

    order = {"id": 7, "clientKey": key, "ativo": "EURUSD", "direction": "call", "amountCents": stake,
             "payout": 87, "account": "PRACTICE", "openedAt": 1.5, "expiresAt": 120, "kind": "turbo",
             "openPrice": price}  # fmt: skip
    conditions = {"cents.PRACTICE": {"$gte": stake}, "keys": {"$ne": key}}
    filter_ = {"_id": "a", **conditions}
    update = {
        "$inc": {"cents.PRACTICE": -stake},
        "$push": {"open": order, "keys": {"$each": [key], "$slice": -kept}},
    }
    db = new_embedded_database("Buy")
    function_side, update_side = db["function"], db["update"]
    for side in (function_side, update_side):
        side.insert_one({"_id": "a", **copy.deepcopy(stored)})

    def by_function():
        done = names.change_by_id(
            function_side, "a", lambda doc: paper._buy(doc, conditions, "PRACTICE", stake, order)
        )
        if done is None:
            return function_side.find_one_and_update(filter_, update, projection={"_id": 1}) is not None
        return done

    slow_modify = getattr(Collection.find_one_and_update, "glimpse_slow")  # noqa: B009 (mypy cannot see it)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paper, "KEYS_KEPT", kept)
        made = _outcome(by_function)
    expected = _outcome(lambda: slow_modify(update_side._target, filter_, update, {"_id": 1}) is not None)
    assert made == expected
    assert [_ordered(d) for d in function_side.find()] == [_ordered(d) for d in update_side.find()]


def test_a_paper_buy_on_a_plain_account_is_made_without_the_update(monkeypatch):
    from mongomock.collection import Collection

    from glimpse.market import paper

    db = new_embedded_database("Buy")
    accounts = db["PaperBalances"]
    accounts.insert_one({"_id": "a", "cents": {"PRACTICE": 500}, "open": [], "keys": ["k0"]})
    monkeypatch.setattr(Collection, "find_one_and_update", lambda *a, **k: pytest.fail("the update was made"))
    order = {"id": 1, "clientKey": "k1", "amountCents": 200}
    conditions = {"cents.PRACTICE": {"$gte": 200}, "keys": {"$ne": "k1"}}
    assert (
        names.change_by_id(accounts, "a", lambda doc: paper._buy(doc, conditions, "PRACTICE", 200, order))
        is True
    )
    assert (
        names.change_by_id(accounts, "a", lambda doc: paper._buy(doc, conditions, "PRACTICE", 200, order))
        is False
    )
    assert accounts.find_one({"_id": "a"}, {"_id": 0}) == {
        "cents": {"PRACTICE": 300},
        "open": [{"id": 1, "clientKey": "k1", "amountCents": 200}],
        "keys": ["k0", "k1"],
    }


_NAMES = st.one_of(
    st.sampled_from(["s1", "s2", ObjectId("0" * 24), 1, None, True]),
    st.lists(st.sampled_from(["s1", "s2"]), max_size=2),  # an array: an equality matches its elements
)
_NAMED = st.lists(
    st.fixed_dictionaries({}, optional={"name": _NAMES, "status": st.sampled_from(["a", "b"])}), max_size=5
)
_BY_NAME = st.fixed_dictionaries(
    {"name": st.sampled_from(["s1", "s2", "s3", ObjectId("0" * 24)])},
    optional={"status": st.sampled_from(["a", {"$ne": "a"}]), "$or": st.just([{"status": "b"}, {"x": None}])},
)


@settings(max_examples=400, deadline=None)
@given(docs=_NAMED, filter_=_BY_NAME, unique=st.booleans(), which=st.sampled_from(["update_one", "after"]))
def test_a_filter_on_a_unique_fields_value_answers_as_a_scan_does(docs, filter_, unique, which):
    # A server by its name, a pair by its ativo: found from the unique index's map of values, not a scan.
    from mongomock.collection import Collection
    from mongomock.filtering import filter_applies

    db = new_embedded_database("Unique")
    fast_side, slow_side = db["fast"], db["slow"]
    for side in (fast_side, slow_side):
        if unique:
            side.create_index("name", unique=True)
        for i, doc in enumerate(docs):
            _outcome(lambda side=side, i=i, doc=doc: side.insert_one({"_id": i, **doc}))
    stored = list(fast_side._target._store._documents.values())
    assert list(fast_side.find(filter_)) == [d for d in stored if filter_applies(filter_, d)]
    assert fast_side.count_documents(filter_) == sum(1 for d in stored if filter_applies(filter_, d))
    update = {"$set": {"status": "c"}, "$inc": {"n": 1}}
    slow_update = getattr(Collection.update_one, "glimpse_slow")  # noqa: B009 (mypy cannot see it)
    slow_modify = getattr(Collection.find_one_and_update, "glimpse_slow")  # noqa: B009
    if which == "update_one":
        fast = _outcome(lambda: fast_side.update_one(filter_, update).modified_count)
        slow = _outcome(lambda: slow_update(slow_side._target, filter_, update).modified_count)
    else:
        after = pymongo.ReturnDocument.AFTER
        fast = _outcome(lambda: fast_side.find_one_and_update(filter_, update, return_document=after))
        slow = _outcome(lambda: slow_modify(slow_side._target, filter_, update, return_document=after))
    assert fast == slow
    assert [_ordered(d) for d in fast_side.find()] == [_ordered(d) for d in slow_side.find()]


def test_a_servers_update_by_name_is_made_without_a_scan(monkeypatch):
    from mongomock.collection import Collection

    db = new_embedded_database("Unique")
    ensure_indexes(db)
    servers = db[names.SERVERS]
    servers.insert_many([{"name": f"s{i}", "incarnation": "a", "status": "free"} for i in range(50)])
    monkeypatch.setattr(Collection, "_update", lambda *a, **k: pytest.fail("mongomock made the update"))
    monkeypatch.setattr(names, "_mongomock_matches", lambda *a, **k: pytest.fail("mongomock matched"))
    taken = servers.find_one_and_update(
        {"name": "s7", "incarnation": "a", "status": "free"},
        {"$set": {"status": "operating"}},
        return_document=pymongo.ReturnDocument.AFTER,
    )
    assert taken is not None and taken["name"] == "s7" and taken["status"] == "operating"
    assert servers.update_one({"name": "s8", "status": "operating"}, {"$set": {"x": 1}}).matched_count == 0
    assert servers.count_documents({"status": "operating"}) == 1


# What stored documents hold: scalars BSON holds (dates, ids, decimals, bytes), and documents of
# dict's kind (mongomock keeps upserted ones as OrderedDict) and lists, nested.
_STORED_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**40), 2**40),
        st.floats(allow_nan=False),
        st.text(max_size=3),
        st.binary(max_size=2),
        st.builds(ObjectId),
        st.just(Decimal128("1.50")),
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=2), inner, max_size=3),
        st.dictionaries(st.text(max_size=2), inner, max_size=3).map(OrderedDict),
    ),
    max_leaves=12,
)


def _containers(value: object) -> list[int]:
    if isinstance(value, dict):
        return [id(value), *(i for v in value.values() for i in _containers(v))]
    if isinstance(value, list):
        return [id(value), *(i for v in value for i in _containers(v))]
    return []


@settings(max_examples=400, deadline=None)
@given(doc=st.dictionaries(st.text(max_size=2), _STORED_VALUES, max_size=4))
@example(doc={"when": OrderedDict(at=[datetime(2024, 1, 1)]), "id": ObjectId("0" * 24)})
def test_a_found_document_is_copied_as_mongomocks_own_copy_makes_it(doc):
    from mongomock import collection

    fast = collection._copy_field
    original = getattr(fast, "glimpse_original")  # noqa: B009 (an attribute mypy cannot see)
    kept = copy.deepcopy(doc)
    for container in (dict, OrderedDict):
        copied = fast(doc, container)
        assert _ordered(copied) == _ordered(original(doc, container))
        # Nothing it can change is shared with the stored document.
        assert not set(_containers(copied)) & set(_containers(doc))
    assert _ordered(doc) == _ordered(kept)
