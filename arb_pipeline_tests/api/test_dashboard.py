"""The dashboard in a real headless Chromium (Debian's `chromium` + `chromium-driver`, via Selenium).

An arbitrage injected into the simulator goes through one scan run of the real pipeline (paper
order, hedge instruction); the page served by the API must show it — executable, with its legs and
profit — and the hedge to place, and its kill switch must open the breaker that every process obeys.
A screenshot is written as a test artifact (ARB_TEST_ARTIFACTS, default `test-artifacts/` at the
repository root). Skipped, with the reason, where Chromium or its driver is not installed; `make
test` installs them.
"""

import hashlib
import os
import shutil
import socket
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
import uvicorn

from arb_pipeline.api.app import STATIC_DIR, create_app
from arb_pipeline.settings import Settings, get_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
TOKEN = "dashboard-test-token-0123456789"
ARTIFACTS = Path(os.environ.get("ARB_TEST_ARTIFACTS") or REPO_ROOT / "test-artifacts")

needs_chromium = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="headless Chromium not installed: `apt-get install -y chromium chromium-driver` (make test does it)")


def test_the_vendored_chart_library_is_the_published_one():
    """uPlot is vendored from the npm tarball unchanged (hashes recorded in its README)."""
    readme = (STATIC_DIR / "vendor" / "uplot" / "README.md").read_text()
    for name in ("uPlot.iife.min.js", "uPlot.min.css"):
        digest = hashlib.sha256((STATIC_DIR / "vendor" / "uplot" / name).read_bytes()).hexdigest()
        assert f"| {name} | {digest} |" in readme, name


@pytest.fixture
def desk(tmp_path, monkeypatch):
    """The pipeline on the simulator with one injected arbitrage scanned once, and the API serving it."""
    from arb_pipeline.defs.runner import build_resources, run_scan_job
    from arb_pipeline.sim.scenario import ScenarioConfig
    from arb_pipeline.sim.server import SimConfig, start_simulator

    db_url = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    scenario = ScenarioConfig(seed=13, live_clock=True, games_per_league=2, arb_rate_per_hour=0.0,
                              value_rate_per_hour=0.0)
    with start_simulator(SimConfig(scenario=scenario, kalshi_tier=None, odds_calls_per_second=None)) as sim:
        for name, value in {"ARB_DATA_DIR": str(tmp_path / "data"), "ARB_MODE": "paper", "DATABASE_URL": db_url,
                            "KALSHI_API_KEY_ID": sim.key_id, "ODDS_API_KEY": sim.odds_api_key,
                            "KALSHI_PRIVATE_KEY_PEM": sim.private_key_pem.decode("ascii"),
                            "ARB_MAPPING_OVERRIDES": str(tmp_path / "overrides.yaml")}.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        injected = sim.scenario.inject_arbitrage(edge=Decimal("0.03"))
        run = run_scan_job(build_resources(database_url=db_url, source="simulator",
                                           kalshi_base_url=sim.kalshi_base_url, odds_api_base_url=sim.odds_base_url))
        assert run.success, run.error
        assert run.metadata["executed_orders"]["orders_sent"] >= 1
        settings = Settings(_env_file=None, DATABASE_URL=db_url, ARB_DATA_DIR=str(tmp_path / "data"),
                            ARB_API_TOKEN=TOKEN)
        app = create_app(settings)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
            time.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}", injected, settings
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            get_settings.cache_clear()


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="arb-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", "--window-size=1400,1800"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver, condition, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(condition)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; page says: "
                         f"{driver.execute_script('return document.body.innerText')[:2000]}")


@needs_chromium
def test_the_page_shows_the_injected_arbitrage_and_its_kill_switch_stops_trading(desk, browser):
    from selenium.webdriver.common.by import By

    from arb_pipeline.services.operations import breaker_for

    url, injected, settings = desk
    browser.get(url + "/?refresh=1")
    wait_for(browser, "return Number(document.body.dataset.refreshes || 0) >= 1", what="the first refresh")

    event = injected["event_ticker"]
    row = browser.find_element(By.CSS_SELECTOR, f'#opportunities tr.executable[data-event="{event}"]')
    text = row.text
    short = "…" + injected["market_ticker"][len(event):]
    assert "arbitrage" in text and f"Kalshi YES {short}" in text and "back" in text
    assert "$" in row.find_element(By.CSS_SELECTOR, "td.profit").text
    assert "filled" in text  # the paper order the scan placed for it
    hedge = browser.find_element(By.CSS_SELECTOR, "#hedges tr.pending")
    # the hedge backs at the book the detected arbitrage uses (commission-aware detection may prefer another
    # book than the one the simulator's window was built on: the page's own legs are the reference)
    assert f"{hedge.find_elements(By.TAG_NAME, 'td')[1].text}: back" in text
    assert browser.find_element(By.ID, "mode").text == "PAPER"
    assert "odds API credits left" in browser.find_element(By.ID, "quota").text
    assert browser.find_element(By.CSS_SELECTOR, "#positions tbody tr")  # the filled Kalshi leg, by game
    assert browser.execute_script("return document.body.dataset.breaker") == "closed"

    formats = browser.execute_script(
        "const f = window.deskFormat; return [f.cents('3.225'), f.cents('6.6063'), f.cents('-5.18'), "
        "f.cents('1234567.005'), f.price('0.240000'), f.shortTicker('KX-A-BOS', 'KX-A')]")
    assert formats == ["$3.22", "$6.61", "-$5.18", "$1,234,567.00", "0.24", "…-BOS"]  # half-even, exact

    browser.find_element(By.ID, "token").send_keys(TOKEN)
    browser.find_element(By.ID, "who").send_keys("dashboard-test")

    # mark the hedge placed in the page, at the quoted odds and stake it pre-fills: the ledger changes
    hedge_id = browser.execute_script("return document.querySelector('#hedges tr.pending').dataset.hedgeId")
    assert browser.find_element(By.ID, "pnl-total").text == "$0.00"
    # the table refreshes every second: click the row's button as found now (never a stale reference)
    browser.execute_script(f"document.querySelector('#hedges tr[data-hedge-id=\"{hedge_id}\"] "
                           "button.hedge-placed').click()")
    wait_for(browser, f"const r = document.querySelector('#hedges tr[data-hedge-id=\"{hedge_id}\"]');"
                      " return r !== null && r.className === 'placed'", what="the hedge to show placed")
    from arb_pipeline.services.ledger import risk
    from arb_pipeline.storage.db import get_engine, session_factory, session_scope
    from arb_pipeline.storage.models import HedgeInstruction

    with session_scope(session_factory(get_engine(settings.effective_database_url))) as session:
        row = session.get(HedgeInstruction, int(hedge_id))
        assert (row.status, row.acted_by, row.placed_stake) == ("placed", "dashboard-test", row.stake)
        assert risk(session, "paper", row.placed_at).book_exposure == row.stake  # both legs on the books
    assert browser.find_element(By.CSS_SELECTOR, "#arbitrages tbody tr")  # the arbitrage as a unit, with CLV

    browser.find_element(By.ID, "kill-switch").click()
    browser.find_element(By.ID, "kill-switch-confirm").click()
    wait_for(browser, "return document.body.dataset.breaker === 'open'", what="the breaker to open")
    assert "kill switch" in browser.find_element(By.ID, "breaker-badge").text

    decision = breaker_for(settings).check_before_order()  # what the next order in any process sees
    assert not decision.allowed and "manual kill switch" in decision.reason and "dashboard-test" in decision.reason

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "dashboard.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    print(f"dashboard screenshot: {shot}")


@needs_chromium
def test_a_wrong_token_is_refused_in_the_page(desk, browser):
    from selenium.webdriver.common.by import By

    url, _, settings = desk
    browser.get(url + "/?refresh=1")
    wait_for(browser, "return Number(document.body.dataset.refreshes || 0) >= 1", what="the first refresh")
    browser.find_element(By.ID, "token").send_keys("not-the-token-at-all-000")
    browser.find_element(By.ID, "who").send_keys("mallory")
    browser.find_element(By.ID, "kill-switch").click()
    browser.find_element(By.ID, "kill-switch-confirm").click()
    wait_for(browser, "return document.getElementById('act-status').textContent.includes('refused')",
             what="the refusal")
    assert "wrong or missing operator token" in browser.find_element(By.ID, "act-status").text
    from arb_pipeline.services.operations import breaker_for

    assert breaker_for(settings).status().state.value == "closed"
