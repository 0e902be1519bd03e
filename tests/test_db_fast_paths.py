"""The embedded store's fast paths answer exactly as mongomock's own scans (issue 14).

The unique check by a value map (instead of a query per write) and the
set-based `$in` must refuse the same duplicates, roll back the same writes
and match the same documents as the code they replace.
"""

from __future__ import annotations

import pymongo
import pytest
from bson import ObjectId
from hypothesis import given, settings
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
