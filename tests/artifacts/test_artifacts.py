"""Named artifacts (API §12): versions and latest, tags and aliases with history,
partitions and queries, objects, references, lineage; on the embedded catalog and through
a server (``remote``)."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import pytest

from assetry import (
    ArtifactVersion,
    Catalog,
    ColumnDef,
    ConflictError,
    NotFoundError,
    Reference,
    TableDef,
    ValidationError,
)

UTC = dt.UTC


@pytest.fixture(params=["sqlite", "remote"])
def cat(request: pytest.FixtureRequest) -> Catalog:
    """The same behaviour embedded and over HTTP."""
    name = "sqlite_catalog" if request.param == "sqlite" else "remote_catalog"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


def _file(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_versions_count_up_and_latest_is_the_highest_not_deleted(
    cat: Catalog, tmp_path: Path
) -> None:
    weights = _file(tmp_path, "model.pkl", b"weights 1")
    v1 = cat.artifacts.register(
        "fraud_detector",
        artifact_type="Model",
        files={"model/classifier.pkl": weights},
        properties={"f1_score": 0.92},
        tags={"stage": "staging", "team": "fraud"},
        description="first",
    )
    assert isinstance(v1, ArtifactVersion)
    assert (v1.name, v1.version, v1.artifact_type) == ("fraud_detector", 1, "Model")
    assert v1.tags == {"stage": "staging", "team": "fraud"}
    assert v1.properties == {"f1_score": 0.92}
    assert [f["Path"] for f in v1.files] == ["model/classifier.pkl"]
    v2 = cat.artifacts.register("fraud_detector", data={"threshold": 0.7})
    v3 = cat.artifacts.register("fraud_detector", data={"threshold": 0.8})
    assert (v2.version, v3.version) == (2, 3)
    assert v2.artifact_type == "Model"  # the name's declared type
    assert cat.artifacts.get("fraud_detector").rid == v3.rid
    assert cat.artifacts.get("fraud_detector", version=2).rid == v2.rid
    assert cat.artifacts.get("fraud_detector", version="latest").rid == v3.rid
    assert cat.artifacts.get(v1.rid).version == 1
    assert cat.artifacts.get(v1.rid.lower()).rid == v1.rid  # RIDs ignore case
    cat.artifacts.delete(v3)
    assert cat.artifacts.get("fraud_detector").version == 2
    assert [v.version for v in cat.artifacts.list(name="fraud_detector")] == [2, 1]
    assert [v.version for v in cat.artifacts.list(name="fraud_detector", include_deleted=True)] == [
        3,
        2,
        1,
    ]
    assert cat.artifacts.get("fraud_detector", version=3).deleted  # still readable by number
    v4 = cat.artifacts.register("fraud_detector", data={"threshold": 0.9})
    assert v4.version == 4  # numbers are never reused
    assert cat.history(v3.rid)[-1]["row"]["Deleted"] is True


def test_same_content_as_the_latest_returns_it_with_a_warning(cat: Catalog, tmp_path: Path) -> None:
    path = _file(tmp_path, "a.txt", b"same bytes")
    first = cat.artifacts.register("notes", files=[path], properties={"k": 1})
    with pytest.warns(UserWarning, match="equals version 1"):
        again = cat.artifacts.register("notes", files=[path], properties={"k": 1})
    assert again.rid == first.rid
    changed = cat.artifacts.register("notes", files=[path], properties={"k": 2})
    assert changed.version == 2


def test_same_content_with_new_tags_sets_them_on_the_version(cat: Catalog) -> None:
    first = cat.artifacts.register("scores", data={"f1": 0.9}, tags={"team": "fraud"})
    with pytest.warns(UserWarning, match="equals version 1"):
        again = cat.artifacts.register("scores", data={"f1": 0.9}, tags={"stage": "production"})
    assert again.rid == first.rid
    assert again.tags == {"stage": "production", "team": "fraud"}
    assert [v.name for v in cat.artifacts.search("stage:production")] == ["scores"]


def test_tag_and_partition_keys_that_are_parameter_names_go_in_a_mapping(cat: Catalog) -> None:
    v = cat.artifacts.register("keys", data=[1], partitions={"time_range": "q1", "name": "a"})
    tagged = cat.artifacts.tag(v, {"version": "2", "tags": "x"}, team="fraud")
    assert tagged.tags == {"tags": "x", "team": "fraud", "version": "2"}
    assert cat.artifacts.untag(v, "version").tags == {"tags": "x", "team": "fraud"}
    found = cat.artifacts.query("keys", {"time_range": "q1", "name": "a"})
    assert isinstance(found, ArtifactVersion) and found.rid == v.rid
    with pytest.raises(ValidationError, match="'team' is given twice"):
        cat.artifacts.tag(v, {"team": "a"}, team="b")
    with pytest.raises(ValidationError, match="must be a mapping"):
        cat.artifacts.query("keys", ["time_range"])  # type: ignore[arg-type]


def test_tags_aliases_and_their_history(cat: Catalog) -> None:
    v1 = cat.artifacts.register("clf", artifact_type="Model", data=[1])
    v2 = cat.artifacts.register("clf", data=[2])
    cat.artifacts.alias(v1, "production")
    before = cat.snapshot()
    moved = cat.artifacts.alias(v2, "production")
    assert moved.aliases == ["production"]
    assert cat.artifacts.get("clf", version="production").rid == v2.rid
    assert cat.artifacts.get("clf", "production", as_of=before).rid == v1.rid
    assert cat.artifacts.get("clf", version=1).aliases == []
    tagged = cat.artifacts.tag(v2, stage="production", team="fraud")
    assert tagged.tags == {"stage": "production", "team": "fraud"}
    at_tag = cat.snapshot()
    cat.artifacts.tag(v2, stage="archived")
    assert cat.artifacts.get(v2.rid).tags["stage"] == "archived"
    assert cat.artifacts.get(v2.rid, as_of=at_tag).tags["stage"] == "production"
    assert cat.artifacts.untag(v2, "team").tags == {"stage": "archived"}
    with pytest.raises(NotFoundError, match="alias 'staging'"):
        cat.artifacts.get("clf", version="staging")


def test_search_words_tags_type_and_name(cat: Catalog) -> None:
    cat.artifacts.register(
        "fraud_detector", "Model", data=[1], tags={"stage": "production", "team": "fraud"}
    )
    cat.artifacts.register(
        "churn", "Model", data=[2], tags={"stage": "production", "team": "growth"}
    )
    cat.artifacts.register("fraud_data", "Dataset", data=[3], tags={"team": "fraud"})
    found = cat.artifacts.search("stage:production team:fraud")
    assert [v.name for v in found] == ["fraud_detector"]
    assert {v.name for v in cat.artifacts.search("fraud")} == {"fraud_detector", "fraud_data"}
    assert [v.name for v in cat.artifacts.search("fraud type:Dataset")] == ["fraud_data"]
    assert [v.name for v in cat.artifacts.search("name:churn")] == ["churn"]
    assert [v.name for v in cat.artifacts.list(artifact_type="Model")] == [
        "churn",
        "fraud_detector",
    ]
    assert [v.name for v in cat.artifacts.list(limit=1, offset=1)] == ["churn"]
    assert cat.artifacts.search("stage:nowhere") == []


def test_partitions_query_latest_matching_and_time_ranges(cat: Catalog) -> None:
    days = [dt.datetime(2026, 12, d, tzinfo=UTC) for d in (1, 2, 3)]
    cat.artifacts.declare(
        "ride_count_data", "Dataset", partition_keys=["region"], time_partitioned=True
    )
    for day in days:
        for region in ("us", "eu"):
            cat.artifacts.register(
                "ride_count_data", data={"day": day.day, "region": region},
                partitions={"region": region}, time_partition=day,
            )  # fmt: skip
    latest_us = cat.artifacts.query("ride_count_data", region="us")
    assert isinstance(latest_us, ArtifactVersion)
    assert cat.artifacts.load(latest_us) == {"day": 3, "region": "us"}
    on_day_2 = cat.artifacts.query("ride_count_data", region="eu", time_partition=days[1])
    assert isinstance(on_day_2, ArtifactVersion)
    assert on_day_2.partitions == {"region": "eu"} and on_day_2.time_partition == days[1]
    window = cat.artifacts.query("ride_count_data", region="us", time_range=(days[0], days[2]))
    assert isinstance(window, list)
    assert [v.time_partition for v in window] == [days[1], days[0]]  # [start, end), newest first
    assert cat.artifacts.partition_values("ride_count_data", "region") == ["eu", "us"]
    with pytest.raises(NotFoundError, match="region=mars"):
        cat.artifacts.query("ride_count_data", region="mars")


def test_objects_round_trip_through_materializers(cat: Catalog) -> None:
    pd = pytest.importorskip("pandas")
    np = pytest.importorskip("numpy")
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    v = cat.artifacts.register("table", "Dataset", data=frame)
    assert v.objects[0]["materializer"] == "pandas"
    assert v.objects[0]["python_type"].startswith("pandas.")
    assert v.objects[0]["python_type"].endswith(".DataFrame")
    pd.testing.assert_frame_equal(cat.artifacts.load(v), frame)
    array = np.arange(12, dtype="float32").reshape(3, 4)
    a = cat.artifacts.register("array", data=array)
    assert a.objects[0]["materializer"] == "numpy"
    np.testing.assert_array_equal(cat.artifacts.load(a), array)
    y = cat.artifacts.register(
        "config", "Config", objects={"cfg": {"lr": 0.1}}, serializers={"cfg": "yaml"}
    )
    assert y.objects[0]["path"] == "objects/cfg.yaml"
    assert cat.artifacts.load(y) == {"lr": 0.1}
    several = cat.artifacts.register("pair", objects={"a": [1], "b": "two"})
    assert cat.artifacts.load(several) == {"a": [1], "b": "two"}
    assert cat.artifacts.load(several, name="b") == "two"


def test_scikit_learn_estimators_need_trust_to_load(cat: Catalog) -> None:
    linear = pytest.importorskip("sklearn.linear_model")
    np = pytest.importorskip("numpy")
    model = linear.LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    v = cat.artifacts.register("sk", "Model", data=model)
    assert v.objects[0]["materializer"] == "pickle"
    assert v.objects[0]["framework"] == "sklearn"
    with pytest.raises(ValidationError, match="trust=True"):
        cat.artifacts.load(v)
    loaded = cat.artifacts.load(v, trust=True)
    assert list(loaded.predict(np.array([[0.0], [3.0]]))) == [0, 1]


def test_download_lays_files_out_by_their_artifact_paths(cat: Catalog, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    _file(folder, "weights/a.bin", b"aaa")
    _file(folder, "config.json", b"{}")
    v = cat.artifacts.register("bundle", files=[folder], data={"x": 1})
    dest = cat.artifacts.download(v, tmp_path / "out")
    got = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert got == ["objects/data.json", "run/config.json", "run/weights/a.bin"]
    assert (dest / "run/weights/a.bin").read_bytes() == b"aaa"


def test_parents_children_and_lineage_agree(cat: Catalog) -> None:
    raw = cat.artifacts.register("raw", "Dataset", data=[1, 2, 3])
    model = cat.artifacts.register("model", "Model", data={"w": 1}, parents=[raw])
    assert [p.rid for p in cat.artifacts.parents(model) if isinstance(p, ArtifactVersion)] == [
        raw.rid
    ]
    assert [c.rid for c in cat.artifacts.children(raw) if isinstance(c, ArtifactVersion)] == [
        model.rid
    ]
    graph = cat.lineage(model.rid)
    kinds = {n["rid"]: n["kind"] for n in graph.nodes}
    assert kinds[model.rid] == kinds[raw.rid] == "artifact"
    assert (model.execution, model.rid, "generated") in graph.edges
    assert (model.execution, raw.rid, "used") in graph.edges
    assert "model v1" in graph.to_mermaid() and "raw v1" in graph.to_dot()
    assert any("Artifact_Version" in str(v) for v in graph.to_prov()["entity"].values())


def test_an_execution_that_registers_is_the_producer(sqlite_catalog: Catalog) -> None:
    from assetry import ExecutionConfiguration

    cat = sqlite_catalog
    wf = cat.create_workflow("train", "Training", url="https://example.org/train.py", checksum="1")
    with cat.create_execution(ExecutionConfiguration(workflow=wf)) as exe:
        v = cat.artifacts.register("trained", "Model", data={"w": 2}, execution=exe)
    assert v.execution == exe.rid
    assert cat.lineage(v.rid).edges[0][2] in ("generated", "executed", "used")
    assert (exe.rid, v.rid, "generated") in cat.lineage(v.rid).edges


def test_references_are_recorded_and_verified(cat: Catalog, tmp_path: Path) -> None:
    big = _file(tmp_path, "big.tar", b"x" * 5000)
    v = cat.artifacts.register("external", references=[Reference(big.as_uri(), size_bytes=5000)])
    assert v.files == [] and v.references[0].sha256 is None
    checked = cat.artifacts.verify(v)
    ref = checked.references[0]
    assert ref.size_bytes == 5000 and ref.sha256 is not None and ref.md5 is not None
    big.write_bytes(b"y" * 5000)
    from assetry import ChecksumMismatch

    with pytest.raises(ChecksumMismatch, match="big.tar"):
        cat.artifacts.verify(checked)


def test_artifact_tables_are_written_only_by_artifact_operations(cat: Catalog) -> None:
    from assetry import PermissionDenied

    v = cat.artifacts.register("guarded", data=[1])
    with pytest.raises(PermissionDenied, match="Artifact_Version"):
        cat.insert("Artifact_Version", [{"Artifact": v.rid, "Name": "guarded", "Version": 9}])
    with pytest.raises(PermissionDenied, match="Artifact_Tag"):
        cat.update("Artifact_Tag", [{"RID": v.rid, "Value": "x"}])
    with pytest.raises(PermissionDenied, match="Artifact_Alias"):
        cat.insert("Artifact_Alias", [{"Alias": "production"}])


# --- bad input: each a clear error, nothing half-written ----------------------------------


def test_unknown_names_versions_and_aliases_are_named(cat: Catalog) -> None:
    with pytest.raises(NotFoundError, match="'nothing'"):
        cat.artifacts.get("nothing")
    cat.artifacts.register("known", data=[1])
    with pytest.raises(NotFoundError, match="'known' version 7"):
        cat.artifacts.get("known", version=7)
    with pytest.raises(NotFoundError, match="alias 'gold'"):
        cat.artifacts.get("known", version="gold")
    with pytest.raises(NotFoundError, match="'nothing'"):
        cat.artifacts.query("nothing", region="us")


def test_partition_keys_must_be_the_declared_ones(cat: Catalog) -> None:
    cat.artifacts.register("p", data=[1], partitions={"region": "us"})
    with pytest.raises(ValidationError, match="partitioned by \\['region'\\]"):
        cat.artifacts.register("p", data=[2], partitions={"country": "us"})
    with pytest.raises(ValidationError, match="not time-partitioned"):
        cat.artifacts.register("p", data=[2], partitions={"region": "us"},
                               time_partition=dt.datetime(2026, 1, 1, tzinfo=UTC))  # fmt: skip
    with pytest.raises(ValidationError, match="no time zone"):
        cat.artifacts.register("t", data=[1], time_partition=dt.datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="no partition key 'country' \\(its keys: region\\)"):
        cat.artifacts.query("p", country="us")
    assert [v.version for v in cat.artifacts.list(name="p")] == [1]


@pytest.mark.parametrize("bad", ["has space", "semi;colon", "", "ü"])
def test_tag_keys_and_aliases_outside_the_allowed_characters(cat: Catalog, bad: str) -> None:
    v = cat.artifacts.register("k", data=[1])
    with pytest.raises(ValidationError, match="is not allowed"):
        cat.artifacts.tag(v, **{bad: "x"})
    with pytest.raises(ValidationError, match="is not allowed"):
        cat.artifacts.alias(v, bad)
    with pytest.raises(ValidationError, match="is not allowed"):
        cat.artifacts.register("k2", data=[1], tags={bad: "x"})
    assert cat.artifacts.get(v.rid).tags == {} and cat.artifacts.list(name="k2") == []


def test_an_object_without_a_materializer_says_how_to_add_one(cat: Catalog) -> None:
    import threading

    with pytest.raises(ValidationError, match="register_materializer"):
        cat.artifacts.register("lock", data=threading.Lock())
    assert cat.artifacts.list(name="lock") == []


def test_references_with_unknown_schemes_or_wrong_checksums(cat: Catalog, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="unknown scheme 'ftp'"):
        Reference("ftp://example.org/x")
    path = _file(tmp_path, "r.bin", b"abc")
    v = cat.artifacts.register("r", references=[Reference(path.as_uri(), md5="0" * 32)])
    from assetry import ChecksumMismatch

    with pytest.raises(ChecksumMismatch, match="md5"):
        cat.artifacts.verify(v)


def test_another_type_under_a_declared_name_is_a_conflict(cat: Catalog) -> None:
    cat.artifacts.register("m", "Model", data=[1])
    with pytest.raises(ConflictError, match="declared as 'Model'"):
        cat.artifacts.register("m", "Dataset", data=[2])
    with pytest.raises(ConflictError, match="declared as 'Model'"):
        cat.artifacts.declare("m", "Dataset")
    with pytest.raises(Exception, match="Nonsense"):
        cat.artifacts.register("n", "Nonsense", data=[1])
    assert [v.version for v in cat.artifacts.list(name="m")] == [1]


def test_bad_names_parents_and_files(cat: Catalog, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="artifact name"):
        cat.artifacts.register("no spaces", data=[1])
    with pytest.raises(ValidationError, match="is not a file"):
        cat.artifacts.register("f", files=[tmp_path / "missing.bin"])
    cat.create_table(TableDef("Subject", [ColumnDef("Name")]))
    [subject] = cat.insert("Subject", [{"Name": "s1"}])
    with pytest.raises(ValidationError, match="parents are artifact versions, assets or datasets"):
        cat.artifacts.register("f", data=[1], parents=[subject])
    assert cat.artifacts.list(name="f") == []


def test_load_of_an_object_that_is_not_there(cat: Catalog, tmp_path: Path) -> None:
    v = cat.artifacts.register("files_only", files=[_file(tmp_path, "a", b"a")])
    with pytest.raises(NotFoundError, match="no Python object"):
        cat.artifacts.load(v)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w = cat.artifacts.register("obj", data={"a": 1})
    with pytest.raises(NotFoundError, match="no object 'b'"):
        cat.artifacts.load(w, name="b")


def test_readers_read_writers_register_curators_delete(remote_server: object) -> None:
    from assetry import PermissionDenied

    server = remote_server
    writer = server.catalog("writer")  # type: ignore[attr-defined]
    reader = server.catalog("reader")  # type: ignore[attr-defined]
    curator = server.catalog("curator")  # type: ignore[attr-defined]
    v = writer.artifacts.register("roles", data=[1])
    writer.artifacts.tag(v, stage="x")
    writer.artifacts.alias(v, "production")
    assert reader.artifacts.get("roles", "production").rid == v.rid
    with pytest.raises(PermissionDenied):
        reader.artifacts.register("roles", data=[2])
    with pytest.raises(PermissionDenied):
        writer.artifacts.delete(v)
    with pytest.raises(PermissionDenied):
        writer.artifacts.declare("declared", "Model")
    curator.artifacts.declare("declared", "Model")
    curator.artifacts.delete(v)
    with pytest.raises(NotFoundError):
        reader.artifacts.get("roles")


def test_raw_http_calls_meet_the_same_artifact_rules(remote_server: object) -> None:
    import requests

    server = remote_server
    url, tokens = server.url, server.tokens  # type: ignore[attr-defined]

    def op(who: str, name: str, **arguments: object) -> requests.Response:
        return requests.post(
            f"{url}/api/v1/ops/{name}",
            json=arguments,
            headers={"Authorization": f"Bearer {tokens[who]}"},
            timeout=30,
        )

    admin = server.catalog("admin")  # type: ignore[attr-defined]
    v = admin.artifacts.register("raw_rules", "Model", data=[1])
    forged = op("writer", "insert", table="Artifact_Version",
                rows=[{"Artifact": v.rid, "Name": "raw_rules", "Version": 2}])  # fmt: skip
    assert forged.status_code == 403 and "Artifact_Version" in forged.text
    renumbered = op(
        "admin", "update", table="Artifact_Version", rows=[{"RID": v.rid, "Version": 9}]
    )
    assert renumbered.status_code == 403, renumbered.text
    assert op("writer", "delete_artifact", rid=v.rid).status_code == 403
    assert op("reader", "register_artifact", spec={"name": "x"}).status_code == 403
    bad_tag = op("writer", "tag_artifact", rid=v.rid, tags={"a b": "x"}, remove=[])
    assert bad_tag.status_code == 422 and "is not allowed" in bad_tag.text
    unknown = op("writer", "register_artifact", spec={"name": "y", "sneaky": 1})
    assert unknown.status_code == 422 and "sneaky" in unknown.text
    forged_file = op(
        "writer", "register_artifact",
        spec={"name": "y", "files": [{"path": "a", "url": "/objects/" + "0" * 64,
              "filename": "a", "md5": "0" * 32, "sha256": "0" * 64, "length": 1}]},
    )  # fmt: skip
    assert forged_file.status_code in (404, 422), forged_file.text
    assert [x.version for x in admin.artifacts.list(name="raw_rules")] == [1]
    assert admin.artifacts.list(name="y") == []


def test_listings_page_after_a_version_whatever_is_registered_meanwhile(cat: Catalog) -> None:
    for n in range(5):
        cat.artifacts.register(f"a{n}", artifact_type="Model", data={"n": n})
    first = cat.artifacts.list(limit=2)
    assert [v.name for v in first] == ["a4", "a3"]
    cat.artifacts.register("a5", artifact_type="Model", data={"n": 5})  # lands on top
    rest = cat.artifacts.list(limit=10, after=first[-1])
    assert [v.name for v in rest] == ["a2", "a1", "a0"]
    assert [v.name for v in cat.artifacts.list(after=rest[0].rid, limit=1)] == ["a1"]
    for n in range(3):
        cat.artifacts.register("b", artifact_type="Model", data={"n": n})
    newest = cat.artifacts.list(name="b", limit=1)
    assert [v.version for v in cat.artifacts.list(name="b", after=newest[0])] == [2, 1]
    with pytest.raises(ValidationError, match="after: no artifact version has RID"):
        cat.artifacts.list(after="NOT-1")
    with pytest.raises(ValidationError, match="is not a RID"):
        cat.artifacts.list(after=" ")
