"""Quadrant strategies (MHI and its relatives) through createStrategy and editStrategy."""

from __future__ import annotations

from glimpse.rules.quadrants import PRESETS
from glimpse.store import db as names
from glimpse.store import strategies

SEQUENCE = {"name": "Tres Vermelhas", "sequence": "-1,-1,-1", "operation": "call", "mirror": False}


def test_a_preset_is_stored_as_its_rule(client, db, user):
    answer = client.post(
        "/glimpse/createStrategy", json={"name": "Meu MHI", "quadrant": "mhi"}, headers=user.headers
    )
    assert answer.json == {"res": 1}
    doc = db[names.STRATEGIES].find_one({"name": "Meu MHI"})
    assert doc["quadrant"] == {"period": 5, "offset": 0, "candles": [2, 3, 4], "pick": "minority"}
    assert (doc["sequence"], doc["operation"], doc["mirror"]) == ("", "", False)
    assert "Meu MHI" in db[names.ACCOUNTS].find_one({"email": user.email})["ownedStrategies"]
    listed = client.post("/glimpse/getStrategies", json={}, headers=user.headers).json
    assert [s["quadrant"] for s in listed if s["name"] == "Meu MHI"] == [doc["quadrant"]]
    found = strategies.find_by_name(db, "meu mhi")
    assert found is not None
    rule = found.quadrant_rule()
    assert rule is not None and (rule.period, rule.offset, rule.candles, rule.pick) == (
        PRESETS["mhi"].period,
        PRESETS["mhi"].offset,
        PRESETS["mhi"].candles,
        PRESETS["mhi"].pick,
    )


def test_a_rule_of_ones_own(client, db, user):
    rule = {"period": 15, "offset": 1, "candles": [12, 13, 14], "pick": "majority"}
    assert client.post(
        "/glimpse/createStrategy", json={"name": "M15 maioria", "quadrant": rule}, headers=user.headers
    ).json == {"res": 1}
    assert db[names.STRATEGIES].find_one({"name": "M15 maioria"})["quadrant"] == rule


def test_bad_quadrant_bodies_name_their_field(client, user):
    bad = (
        ({"name": "Quad", "quadrant": "nope"}, "quadrant"),
        (
            {"name": "Quad", "quadrant": {"period": 5, "offset": 5, "candles": [2], "pick": "minority"}},
            "quadrant",
        ),
        (
            {"name": "Quad", "quadrant": {"period": 5, "offset": 0, "candles": [2, 2], "pick": "minority"}},
            "quadrant",
        ),
        (
            {"name": "Quad", "quadrant": {"period": 5, "offset": 0, "candles": [7], "pick": "minority"}},
            "quadrant",
        ),
        (
            {"name": "Quad", "quadrant": {"period": 5, "offset": 0, "candles": [2], "pick": "both"}},
            "quadrant",
        ),
        ({"name": "Quad", "quadrant": "mhi", "sequence": "-1,-1,-1"}, "sequence"),
        ({"name": "Quad"}, "sequence"),
        ({"name": "Quad", "sequence": "-1,-1,-1"}, "operation"),
    )
    for body, field in bad:
        response = client.post("/glimpse/createStrategy", json=body, headers=user.headers)
        assert response.status_code == 400, body
        assert response.json["field"].split(".")[0] == field, (body, response.json)


def test_edit_turns_a_sequence_strategy_into_a_quadrant_one_and_back(client, db, user, manager):
    client.post("/glimpse/createStrategy", json=SEQUENCE, headers=user.headers)
    change = {"name": "Tres Vermelhas", "quadrant": "mhi-maioria"}
    assert client.post("/glimpse/editStrategy", json=change, headers=user.headers).json == {"res": 1}
    doc = db[names.STRATEGIES].find_one({"name": "Tres Vermelhas"})
    assert doc["quadrant"]["pick"] == "majority" and doc["sequence"] == ""
    assert client.post("/glimpse/editStrategy", json=SEQUENCE, headers=manager.headers).json == {"res": 1}
    doc = db[names.STRATEGIES].find_one({"name": "Tres Vermelhas"})
    assert "quadrant" not in doc and doc["sequence"] == "-1,-1,-1"
    audit = db[names.MANAGER_AUDIT].find_one({"didWhat": "editStrategy"})
    assert audit is not None


def test_original_documents_still_load(db):
    """A Strategies document as the original wrote it (no quadrant, no nameKey) reads as a sequence strategy."""
    db[names.STRATEGIES].insert_one(
        {"name": "Antiga", "createdBy": "Glimpse", "sequence": "1,1,-1", "operation": "put", "mirror": True}
    )
    doc = strategies.StrategyDoc.from_doc(db[names.STRATEGIES].find_one({"name": "Antiga"}))
    assert doc.quadrant is None and doc.quadrant_rule() is None
    assert doc.rule() == {"sequence": "1,1,-1", "operation": "put", "mirror": True}
    assert "quadrant" not in doc.public()
