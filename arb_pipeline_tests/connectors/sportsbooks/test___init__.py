"""The package's public names, and that importing it (or the snapshot loader) never imports httpx."""

import subprocess
import sys

import arb_pipeline.connectors.sportsbooks as sportsbooks


def test_public_names_resolve():
    for name in sportsbooks.__all__:
        assert getattr(sportsbooks, name) is not None
    assert sportsbooks.TheOddsApiProvider.name == "the_odds_api"


def test_importing_the_package_and_the_snapshot_loader_does_not_import_httpx():
    code = ("import sys, arb_pipeline.connectors.sportsbooks, arb_pipeline.connectors.snapshot; "
            "print('httpx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
