"""Flyte's artifacts (API §12): the declarations and queries of Flyte's "Artifacts and
Data" page, run without a Flyte cluster (values registered and queried with a catalog
given), and bad input."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import assetry
from assetry import Artifact, Catalog, NotFoundError, ValidationError

UTC = dt.UTC
JAN = dt.datetime(2024, 1, 1, tzinfo=UTC)
FEB = dt.datetime(2024, 2, 1, tzinfo=UTC)


def _rides(n: int) -> pd.DataFrame:
    return pd.DataFrame({"ride": list(range(n)), "count": [n] * n})


def test_ride_count_data_register_and_query(sqlite_catalog: Catalog) -> None:
    cat = sqlite_catalog
    RideCountData = Artifact(
        name="ride_count_data",
        time_partitioned=True,
        partition_keys=["region"],
    )
    us_jan = RideCountData.register(cat, _rides(1), region="us", time_partition=JAN)
    eu_jan = RideCountData.register(cat, _rides(2), region="eu", time_partition=JAN)
    us_feb = RideCountData.register(cat, _rides(3), region="us", time_partition=FEB)

    # The latest version for a region; and for a region at a time, as a launch plan's
    # default input finds it (RideCountData.query(region=..., time_partition=...)).
    assert RideCountData.query(cat, region="us") == us_feb
    assert RideCountData.query(cat, region="us", time_partition=JAN) == us_jan
    assert RideCountData.query(cat, region="eu") == eu_jan
    assert RideCountData.query(cat, time_partition=JAN) == eu_jan
    pd.testing.assert_frame_equal(
        cat.artifacts.load(RideCountData.query(cat, region="us")), _rides(3)
    )
    assert RideCountData.query(cat, region="us", time_range=(JAN, FEB + dt.timedelta(days=1))) == [
        us_feb,
        us_jan,
    ]
    assert sorted(RideCountData.partition_values(cat, "region")) == ["eu", "us"]
    assert (us_feb.partitions, us_feb.time_partition) == ({"region": "us"}, FEB)
    assert [v.version for v in (us_jan, eu_jan, us_feb)] == [1, 2, 3]
    # The same name through the core API.
    assert cat.artifacts.query("ride_count_data", region="us") == us_feb


def test_annotated_style_declaration_with_two_keys(sqlite_catalog: Catalog) -> None:
    cat = sqlite_catalog
    my_artifact = Artifact(name="my_data", partition_keys=["a", "b"], time_partitioned=True)
    # What a task would return, with b bound to its input and the time to run_time.
    b_value, run_time = "b1", dt.datetime(2024, 3, 5, 12, 0, tzinfo=UTC)
    v = my_artifact.register(cat, _rides(2), a="static", b=b_value, time_partition=run_time)
    assert v.partitions == {"a": "static", "b": "b1"} and v.time_partition == run_time
    assert my_artifact.query(cat, b="b1") == v
    # Without a time partition, a time-partitioned artifact takes the current time.
    later = my_artifact.register(cat, _rides(3), a="static", b="b2")
    assert later.time_partition is not None and later.time_partition > run_time


def test_artifact_typed_by_its_value_and_runtime_partitions(sqlite_catalog: Catalog) -> None:
    cat = sqlite_catalog
    my_artifact = Artifact[pd.DataFrame](name="flyteorg.test.yt.test", partition_keys=["a", "b"])
    b_value = "x"
    v = my_artifact.register(cat, _rides(4), a="a_value", b=b_value + "2")
    assert my_artifact.query(cat, a="a_value", b="x2") == v
    assert v.time_partition is None and v.artifact_type == "Custom"
    typed = Artifact(name="daily_table", artifact_type="Dataset")
    assert typed.register(cat, {"rows": 3}).artifact_type == "Dataset"
    assert typed.query(cat).version == 1
    assert "Artifact" in assetry.__all__
    assert repr(typed) == "Artifact(name='daily_table', partition_keys=[], time_partitioned=False)"


def test_declare_first(sqlite_catalog: Catalog) -> None:
    cat = sqlite_catalog
    RideCountData = Artifact(
        name="ride_count_data", partition_keys=["region"], time_partitioned=True
    )
    declared = RideCountData.declare(cat)
    assert declared["Partition_Keys"] == ["region"] and declared["Time_Partitioned"]
    with pytest.raises(NotFoundError, match="region=us"):
        RideCountData.query(cat, region="us")
    v = RideCountData.register(cat, _rides(1), region="us", time_partition=JAN)
    assert RideCountData.query(cat, region="us") == v
    # A declaration in code that differs from the catalog's is refused.
    other = Artifact(name="ride_count_data", partition_keys=["city"], time_partitioned=True)
    with pytest.raises(ValidationError, match="partitioned by \\['region'\\]"):
        other.register(cat, _rides(1), city="paris", time_partition=JAN)


def test_bad_input(sqlite_catalog: Catalog) -> None:
    cat = sqlite_catalog
    rides = Artifact(name="ride_count_data", partition_keys=["region"], time_partitioned=True)
    with pytest.raises(NotFoundError, match="ride_count_data"):
        rides.query(cat, region="us")  # nothing registered yet
    with pytest.raises(ValidationError, match="give region"):
        rides.register(cat, _rides(1), time_partition=JAN)
    with pytest.raises(ValidationError, match="unknown: city"):
        rides.register(cat, _rides(1), region="us", city="paris", time_partition=JAN)
    with pytest.raises(ValidationError, match="unknown: city"):
        rides.query(cat, city="paris")
    with pytest.raises(ValidationError, match="no time zone"):
        rides.register(cat, _rides(1), region="us", time_partition=dt.datetime(2024, 1, 1))
    rides.register(cat, _rides(1), region="us", time_partition=JAN)
    with pytest.raises(NotFoundError, match="region=mars"):
        rides.query(cat, region="mars")
    with pytest.raises(NotFoundError, match="time_partition=2024-02-01"):
        rides.query(cat, region="us", time_partition=FEB)

    untimed = Artifact(name="untimed", partition_keys=["a"])
    with pytest.raises(ValidationError, match="not time-partitioned"):
        untimed.register(cat, 1, a="x", time_partition=JAN)
    with pytest.raises(ValidationError, match="not time-partitioned"):
        untimed.query(cat, time_partition=JAN)
    with pytest.raises(ValidationError, match="unknown: b"):
        untimed.partition_values(cat, "b")
    with pytest.raises(ValidationError, match="needs a name"):
        Artifact(name="")
    with pytest.raises(ValidationError, match="partition_keys must be a list"):
        Artifact(name="x", partition_keys="region")
    with pytest.raises(ValidationError, match="repeat a key"):
        Artifact(name="x", partition_keys=["a", "a"])
    with pytest.raises(ValidationError, match="True or False"):
        Artifact(name="x", time_partitioned="yes")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="artifact name"):
        Artifact(name="not a name").register(cat, 1)
