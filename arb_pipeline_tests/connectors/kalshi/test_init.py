"""The Kalshi package: every exported name, with the HTTP stack imported only when one of its names is used."""

import importlib
import subprocess
import sys

import pytest

import arb_pipeline.connectors.kalshi as kalshi


def test_every_exported_name_resolves_to_its_modules_object():
    for name in kalshi.__all__:
        value = getattr(kalshi, name)
        module = importlib.import_module(f"arb_pipeline.connectors.kalshi.{kalshi._LAZY[name]}") if (
            name in kalshi._LAZY) else None
        assert module is None or getattr(module, name) is value, name
    assert set(kalshi.__all__) <= set(dir(kalshi))


def test_an_unknown_name_is_an_attribute_error_naming_it():
    with pytest.raises(AttributeError, match="NoSuchThing"):
        kalshi.NoSuchThing  # noqa: B018


def test_importing_the_parsers_does_not_import_the_http_stack():
    """`scan --snapshot` imports the parsers only: httpx and the client stay unimported (~16 MiB), and so
    do the order and portfolio models (a scan places no order)."""
    code = ("import sys, arb_pipeline.connectors.kalshi.models, arb_pipeline.connectors.kalshi.fastwire, "
            "arb_pipeline.connectors.kalshi.targets, arb_pipeline.connectors.snapshot; "
            "print(sorted(m for m in ('httpx', 'arb_pipeline.connectors.kalshi.client', "
            "'arb_pipeline.connectors.kalshi.orders', 'arb_pipeline.connectors.kalshi.portfolio') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    code = "import sys; from arb_pipeline.connectors.kalshi import KalshiClient; print('httpx' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "True"


def test_the_models_module_still_re_exports_the_trading_models():
    """`models` stays the one wire-parsing import: each re-exported name is its module's own object."""
    from arb_pipeline.connectors.kalshi import models

    for name, module in models.REEXPORTED.items():
        assert getattr(models, name) is getattr(importlib.import_module(f"arb_pipeline.connectors.kalshi.{module}"),
                                                name), name
    from arb_pipeline.connectors.kalshi.models import Balance, parse_order  # noqa: F401 - the from-import form too
    with pytest.raises(AttributeError, match="no_such_parser"):
        models.no_such_parser  # noqa: B018
