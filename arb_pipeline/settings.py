"""Typed application settings, read once from the environment (and `.env`).

Every variable is documented in `.env.example`. Defaults run everything on one machine with no
account and no network: SQLite, the local simulator as venue, paper mode. Secrets are `SecretStr`
so they never print in a repr, a log line or Dagster metadata.

An empty value (`ARB_MAPPING_OVERRIDES=` as `.env.example` ships it) means "the default", never an
empty path or string: a user who copies `.env.example` to `.env` gets the defaults it documents.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from arb_pipeline.deferred_import import deferring

with deferring("asyncio"):  # pydantic-settings imports it for `CliApp.run` alone: see `deferred_import`
    from pydantic_settings import BaseSettings, SettingsConfigDict

# Leagues on by default: (game series, spread series, total series, Odds API sport key), each confirmed by
# the references (kalshi-api.md §8.2/§8.6 for the series, sportsbook-odds.md §1.7 for the sport keys).
# The mapping catalogue (mapping/data/*.yaml) lists the same series; a test keeps the two in step.
DEFAULT_LEAGUES: tuple[tuple[str, str, str, str], ...] = (
    ("KXNFLGAME", "KXNFLSPREAD", "KXNFLTOTAL", "americanfootball_nfl"),
    ("KXNBAGAME", "KXNBASPREAD", "KXNBATOTAL", "basketball_nba"),
    ("KXNHLGAME", "KXNHLSPREAD", "KXNHLTOTAL", "icehockey_nhl"),
    ("KXMLBGAME", "KXMLBSPREAD", "KXMLBTOTAL", "baseball_mlb"),
    ("KXEPLGAME", "KXEPLSPREAD", "KXEPLTOTAL", "soccer_epl"),
    ("KXNCAAFGAME", "KXNCAAFSPREAD", "", "americanfootball_ncaaf"),
    ("KXNCAAMBGAME", "", "", "basketball_ncaab"),
    ("KXWNBAGAME", "KXWNBASPREAD", "KXWNBATOTAL", "basketball_wnba"),
    ("KXMLSGAME", "", "", "soccer_usa_mls"),
    ("KXUCLGAME", "KXUCLSPREAD", "KXUCLTOTAL", "soccer_uefa_champs_league"),
    ("KXLALIGAGAME", "", "KXLALIGATOTAL", "soccer_spain_la_liga"),
    ("KXSERIEAGAME", "", "", "soccer_italy_serie_a"),
    ("KXBUNDESLIGAGAME", "", "", "soccer_germany_bundesliga"),
    ("KXLIGUE1GAME", "", "", "soccer_france_ligue_one"),
    ("KXUFCFIGHT", "", "", "mma_mixed_martial_arts"),
)
DEFAULT_KALSHI_SERIES = ",".join(s for league in DEFAULT_LEAGUES for s in league[:3] if s)
DEFAULT_ODDS_SPORTS = ",".join(league[3] for league in DEFAULT_LEAGUES)


def default_data_dir() -> Path:
    return Path.home() / ".arb_pipeline"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      env_ignore_empty=True)

    # --- general ---------------------------------------------------------------------------------
    data_dir: Path = Field(default_factory=default_data_dir, alias="ARB_DATA_DIR")
    mode: Literal["paper", "live"] = Field("paper", alias="ARB_MODE")
    log_level: str = Field("INFO", alias="ARB_LOG_LEVEL")

    # --- database --------------------------------------------------------------------------------
    database_url: str | None = Field(None, alias="DATABASE_URL")  # default: SQLite under data_dir

    # --- Kalshi ----------------------------------------------------------------------------------
    kalshi_base_url: str = Field("http://127.0.0.1:8765/trade-api/v2", alias="KALSHI_BASE_URL")
    kalshi_key_id: SecretStr | None = Field(None, alias="KALSHI_API_KEY_ID")  # a secret: rule 7
    kalshi_private_key_path: Path | None = Field(None, alias="KALSHI_PRIVATE_KEY_PATH")
    kalshi_private_key_pem: SecretStr | None = Field(None, alias="KALSHI_PRIVATE_KEY_PEM")
    kalshi_tier: str = Field("basic", alias="KALSHI_TIER")
    kalshi_connect_timeout_s: float = Field(3.0, alias="KALSHI_CONNECT_TIMEOUT_S")
    kalshi_read_timeout_s: float = Field(10.0, alias="KALSHI_READ_TIMEOUT_S")
    kalshi_max_retries: int = Field(4, alias="KALSHI_MAX_RETRIES")
    # requests of one capture in flight at once (events per series, books per 100 tickers, series fees,
    # odds per sport): they overlap their round trips; the rate limiter still bounds the request rate
    capture_concurrency: int = Field(4, alias="ARB_CAPTURE_CONCURRENCY", ge=1, le=32)
    # Series scanned, comma-separated: every catalogued league whose game series kalshi-api.md §8.2
    # confirms, with the spread/total series §8.2/§8.6 confirm (README "Covered series"). Opt-in only:
    # KXUELGAME (its Odds API key is UNVERIFIED) and KXATPMATCH/KXWTAMATCH (the Odds API keys tennis
    # per tournament): add them here and their sport keys to ODDS_SPORTS.
    kalshi_series: str = Field(DEFAULT_KALSHI_SERIES, alias="KALSHI_SERIES")
    # Structured targets (teams/players) change rarely: cache them per venue this long (seconds).
    kalshi_targets_ttl_s: float = Field(21600.0, alias="KALSHI_TARGETS_TTL_S", gt=0)
    # Series metadata (fee type, multiplier) changes rarely: a scan reuses the latest stored capture's for
    # this long (seconds; 0 = ask every scan). A series whose GET /events listed no open event (out of
    # season) is asked again only after KALSHI_QUIET_SERIES_RECHECK_S (0 = every scan). services.kalshi_reuse
    kalshi_series_ttl_s: float = Field(600.0, alias="KALSHI_SERIES_TTL_S", ge=0)
    kalshi_quiet_series_recheck_s: float = Field(60.0, alias="KALSHI_QUIET_SERIES_RECHECK_S", ge=0)

    # websocket (connectors/kalshi/ws.py); empty URL: derived from KALSHI_BASE_URL (.../trade-api/ws/v2)
    kalshi_ws_url: str | None = Field(None, alias="KALSHI_WS_URL")
    kalshi_ws_stale_s: float = Field(30.0, alias="KALSHI_WS_STALE_S", gt=0)  # no message this long: stale
    kalshi_ws_backoff_initial_s: float = Field(0.5, alias="KALSHI_WS_BACKOFF_INITIAL_S", gt=0)
    kalshi_ws_backoff_max_s: float = Field(30.0, alias="KALSHI_WS_BACKOFF_MAX_S", gt=0)
    # markets per orderbook_delta subscription: Kalshi's cap (error 26) is UNVERIFIED, so configurable
    kalshi_ws_max_markets_per_sub: int = Field(500, alias="KALSHI_WS_MAX_MARKETS_PER_SUB", ge=1)

    # --- sportsbook odds -------------------------------------------------------------------------
    # which live odds provider a capture uses: the_odds_api or pinnacle (connectors/sportsbooks/registry.py)
    odds_provider: str = Field("the_odds_api", alias="ODDS_PROVIDER")
    odds_api_base_url: str = Field("http://127.0.0.1:8765", alias="ODDS_API_BASE_URL")
    odds_api_key: SecretStr | None = Field(None, alias="ODDS_API_KEY")
    odds_api_regions: str = Field("us,eu", alias="ODDS_API_REGIONS")
    odds_api_bookmakers: str = Field("", alias="ODDS_API_BOOKMAKERS")  # overrides regions when set
    odds_api_format: Literal["decimal", "american"] = Field("decimal", alias="ODDS_API_FORMAT")
    odds_api_quota_floor: int = Field(50, alias="ODDS_API_QUOTA_FLOOR")
    # the plan's monthly credits: UNVERIFIED default (The Odds API's 20K plan); set yours
    odds_api_monthly_quota: int = Field(20_000, ge=1, alias="ODDS_API_MONTHLY_QUOTA")
    # odds are re-fetched when older than this (pre-match lines move about once a minute); Kalshi books
    # are fetched every scan. ARB_ODDS_REFRESH_BY_SPORT overrides it per sport: "basketball_nba:30,..."
    odds_refresh_s: float = Field(60.0, ge=0, alias="ARB_ODDS_REFRESH_S")
    odds_refresh_by_sport: str = Field("", alias="ARB_ODDS_REFRESH_BY_SPORT")
    # The Odds API sport keys of the same leagues (sportsbook-odds.md §1.7); see KALSHI_SERIES for opt-ins
    odds_sports: str = Field(DEFAULT_ODDS_SPORTS, alias="ODDS_SPORTS")
    # Featured markets asked for on every odds call: each one costs a credit per region (markets x
    # regions, see connectors/sportsbooks/quota.py). Winner-only scanning: ODDS_API_MARKETS=h2h.
    odds_api_markets: str = Field("h2h,spreads,totals", alias="ODDS_API_MARKETS")
    # Pinnacle Lines API (ODDS_PROVIDER=pinnacle; sportsbook-odds.md §2.1): HTTP Basic credentials
    # (secrets) and, per ODDS_SPORTS key, its sportId:leagueId (UNVERIFIED ids: no default).
    pinnacle_base_url: str = Field("http://127.0.0.1:8765", alias="PINNACLE_BASE_URL")
    pinnacle_username: SecretStr | None = Field(None, alias="PINNACLE_USERNAME")
    pinnacle_password: SecretStr | None = Field(None, alias="PINNACLE_PASSWORD")
    pinnacle_leagues: str = Field("", alias="PINNACLE_LEAGUES")  # sport_key:sportId:leagueId,...

    # --- detection (see arb/constraints.py for what each limit means and why its default) ---------
    min_edge_bps: int = Field(0, alias="ARB_MIN_EDGE_BPS")
    min_value_edge_bps: int = Field(200, alias="ARB_MIN_VALUE_EDGE_BPS")
    max_edge_bps: int = Field(1500, alias="ARB_MAX_EDGE_BPS")
    min_profit: Decimal = Field(Decimal("0.00"), alias="ARB_MIN_PROFIT")
    max_kalshi_quote_age_s: float = Field(30.0, alias="ARB_MAX_KALSHI_QUOTE_AGE_S")
    max_book_quote_age_s: float = Field(180.0, alias="ARB_MAX_BOOK_QUOTE_AGE_S")
    pregame_buffer_s: float = Field(300.0, alias="ARB_PREGAME_BUFFER_S")
    devig_method: str = Field("multiplicative", alias="ARB_DEVIG_METHOD")
    min_books: int = Field(2, alias="ARB_MIN_BOOKS")
    sharp_books: str = Field("pinnacle:3,betfair_ex_eu:2,betfair_ex_uk:2", alias="ARB_SHARP_BOOK_WEIGHTS")
    # The books you hold accounts at (hedges can only be placed there; arbitrage needing another book is
    # reported "PAPER", never executed) and the books whose prices make the fair value. Empty: every book.
    account_books: str = Field("", alias="ARB_ACCOUNT_BOOKS")
    consensus_books: str = Field("", alias="ARB_CONSENSUS_BOOKS")
    # value (+EV) opportunities are executed only when this is true (sized by fractional Kelly, capped)
    trade_value: bool = Field(False, alias="ARB_TRADE_VALUE")

    # --- mapping ---------------------------------------------------------------------------------
    overrides_path: Path | None = Field(None, alias="ARB_MAPPING_OVERRIDES")  # default: repo's mapping_overrides.yaml

    # --- sizing ----------------------------------------------------------------------------------
    bankroll: Decimal = Field(Decimal("10000"), alias="ARB_BANKROLL")
    kelly_fraction: float = Field(0.25, alias="ARB_KELLY_FRACTION")
    max_bankroll_fraction: float = Field(0.02, alias="ARB_MAX_BANKROLL_FRACTION")
    max_stake_per_event: Decimal = Field(Decimal("500"), alias="ARB_MAX_STAKE_PER_EVENT")
    max_stake_per_market: Decimal = Field(Decimal("250"), alias="ARB_MAX_STAKE_PER_MARKET")
    max_total_exposure: Decimal = Field(Decimal("5000"), alias="ARB_MAX_TOTAL_EXPOSURE")
    sportsbook_stake_limit: Decimal = Field(Decimal("250"), alias="ARB_SPORTSBOOK_STAKE_LIMIT")
    # exchange commission on net winnings, book:rate over the UNVERIFIED defaults in arb/commission.py
    book_commission: str = Field("", alias="ARB_BOOK_COMMISSION")
    # per-book stake limit per bet, book:dollars (over ARB_SPORTSBOOK_STAKE_LIMIT for the books listed)
    book_stake_limits: str = Field("", alias="ARB_BOOK_STAKE_LIMITS")

    # --- execution -------------------------------------------------------------------------------
    opportunity_ttl_s: float = Field(20.0, alias="ARB_OPPORTUNITY_TTL_S")
    reentry_cooldown_s: float = Field(600.0, alias="ARB_REENTRY_COOLDOWN_S")
    paper_latency_ms: int = Field(150, alias="ARB_PAPER_LATENCY_MS")
    paper_slippage_ticks: int = Field(0, alias="ARB_PAPER_SLIPPAGE_TICKS")
    # paper fills on the book ARB_PAPER_LATENCY_MS after submission (the venue's current book, or the next
    # stored capture: services/paper_books.py), or on the detection book ("detection")
    paper_fill_book: Literal["after_latency", "detection"] = Field("after_latency", alias="ARB_PAPER_FILL_BOOK")
    # partial paper fills: each displayed level fills at most this share of its size (1: all of it)
    paper_fill_ratio: Decimal = Field(Decimal(1), gt=0, le=1, alias="ARB_PAPER_FILL_RATIO")
    # When some legs of an arbitrage filled and others did not: sell the excess back (unwind) within
    # ARB_UNWIND_MAX_LOSS, or keep it flagged (hold). Either way a hedge instruction covers what is held.
    one_leg_policy: Literal["unwind", "hold"] = Field("unwind", alias="ARB_ONE_LEG_POLICY")
    unwind_max_loss: Decimal = Field(Decimal("10"), ge=0, alias="ARB_UNWIND_MAX_LOSS")  # dollars per opportunity
    unwind_steps: int = Field(3, ge=1, le=20, alias="ARB_UNWIND_STEPS")  # IOC sells from the entry price down
    # a hedge instruction not placed this long before its game starts expires (open exposure, alerted)
    hedge_expiry_before_start_s: float = Field(60.0, ge=0, alias="ARB_HEDGE_EXPIRY_BEFORE_START_S")
    # market history kept (services/retention.py): every snapshot this many days, then one per interval
    # per source; deleted after ARB_HISTORY_KEEP_DAYS (0: never). Executed opportunities' scans stay.
    history_full_days: float = Field(7.0, ge=0, alias="ARB_HISTORY_FULL_DAYS")
    history_thin_interval_s: int = Field(300, ge=1, alias="ARB_HISTORY_THIN_INTERVAL_S")
    history_keep_days: float = Field(0.0, ge=0, alias="ARB_HISTORY_KEEP_DAYS")
    # live: the Kalshi cash (GET /portfolio/balance) may differ from the ledger's by at most this much
    balance_tolerance: Decimal = Field(Decimal("0.01"), ge=0, alias="ARB_BALANCE_TOLERANCE")

    # who may place orders: the Dagster scan job ("scan") or the websocket worker ("worker"), never both
    trader: Literal["scan", "worker"] = Field("scan", alias="ARB_TRADER")
    # the worker: how often it looks for a newer stored scan, and where it writes its records
    worker_refresh_s: float = Field(5.0, alias="ARB_WORKER_REFRESH_S", gt=0)
    # the worker evaluates the games touched by book updates this many at a time (one detection pass
    # each), oldest first: the first games of a burst are decided without waiting for the last
    worker_batch_games: int = Field(16, alias="ARB_WORKER_BATCH_GAMES", ge=1)
    # Dagster's freshness check fails when the worker has not reported for longer than this
    worker_heartbeat_max_age_s: float = Field(30.0, alias="ARB_WORKER_HEARTBEAT_MAX_AGE_S", gt=0)

    # --- circuit breaker -------------------------------------------------------------------------
    breaker_max_consecutive_errors: int = Field(3, alias="ARB_BREAKER_MAX_CONSECUTIVE_ERRORS")
    breaker_max_daily_loss: Decimal = Field(Decimal("250"), alias="ARB_BREAKER_MAX_DAILY_LOSS")
    breaker_max_open_exposure: Decimal = Field(Decimal("5000"), alias="ARB_BREAKER_MAX_OPEN_EXPOSURE")
    breaker_max_data_age_s: float = Field(120.0, alias="ARB_BREAKER_MAX_DATA_AGE_S")
    breaker_max_api_error_rate: float = Field(0.5, alias="ARB_BREAKER_MAX_API_ERROR_RATE")
    breaker_cooldown_s: float = Field(300.0, alias="ARB_BREAKER_COOLDOWN_S")

    # --- alerts (secrets) ------------------------------------------------------------------------
    alert_webhook_url: SecretStr | None = Field(None, alias="ARB_ALERT_WEBHOOK_URL")
    alert_email_to: str | None = Field(None, alias="ARB_ALERT_EMAIL_TO")
    smtp_host: str | None = Field(None, alias="ARB_SMTP_HOST")
    smtp_port: int = Field(587, alias="ARB_SMTP_PORT")
    smtp_user: str | None = Field(None, alias="ARB_SMTP_USER")
    smtp_password: SecretStr | None = Field(None, alias="ARB_SMTP_PASSWORD")

    # --- scanning --------------------------------------------------------------------------------
    scan_interval_s: int = Field(10, alias="ARB_SCAN_INTERVAL_S")

    # --- REST API and dashboard (`arb-pipeline api`) ---------------------------------------------
    api_host: str = Field("127.0.0.1", alias="ARB_API_HOST")
    api_port: int = Field(8000, alias="ARB_API_PORT")
    # the operator token for mutating routes (secret); or a file holding it. Neither: read-only API
    api_token: SecretStr | None = Field(None, alias="ARB_API_TOKEN")
    api_token_file: Path | None = Field(None, alias="ARB_API_TOKEN_FILE")
    api_cors_origins: str = Field("", alias="ARB_API_CORS_ORIGINS")  # comma-separated; empty: no CORS
    api_max_body_bytes: int = Field(16_384, alias="ARB_API_MAX_BODY_BYTES", ge=256)

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "arb_pipeline.sqlite3"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"

    def odds_markets(self) -> tuple[str, ...]:
        """ODDS_API_MARKETS as a tuple; a market key the pipeline does not model is a clear error."""
        from arb_pipeline.domain import SUPPORTED_MARKETS

        markets = tuple(dict.fromkeys(m.strip() for m in self.odds_api_markets.split(",") if m.strip()))
        unknown = [m for m in markets if m not in SUPPORTED_MARKETS]
        if unknown or not markets:
            raise ValueError(f"ODDS_API_MARKETS={self.odds_api_markets!r}: "
                             + (f"unknown market(s) {unknown}; " if unknown else "no market given; ")
                             + f"choose from {', '.join(SUPPORTED_MARKETS)}")
        return markets

    @property
    def effective_kalshi_ws_url(self) -> str:
        """KALSHI_WS_URL, else the REST base's host with /trade-api/ws/v2 (kalshi-api.md §1)."""
        if self.kalshi_ws_url:
            return self.kalshi_ws_url
        base = self.kalshi_base_url.rstrip("/")
        root = base.removesuffix("/trade-api/v2")
        return "ws" + root.removeprefix("http") + "/trade-api/ws/v2"

    def book_commission_rates(self) -> dict[str, Decimal]:
        from arb_pipeline.arb.commission import parse_commission_setting

        return parse_commission_setting(self.book_commission)

    def book_stake_limit_map(self) -> dict[str, Decimal]:
        """ARB_BOOK_STAKE_LIMITS as {book: dollars}; a malformed item is refused by name."""
        from arb_pipeline.arb.money import to_decimal

        limits: dict[str, Decimal] = {}
        for item in filter(None, (part.strip() for part in self.book_stake_limits.split(","))):
            book, sep, raw = item.partition(":")
            if not book.strip() or not sep or not raw.strip():
                raise ValueError(f"ARB_BOOK_STAKE_LIMITS: expected book:amount, got {item!r}")
            try:
                amount = to_decimal(raw.strip(), f"ARB_BOOK_STAKE_LIMITS amount for {book.strip()!r}")
            except ValueError as exc:
                raise ValueError(str(exc)) from None
            if not amount.is_finite() or amount <= 0:
                raise ValueError(f"ARB_BOOK_STAKE_LIMITS: the limit for {book.strip()!r} must be > 0, got {raw!r}")
            limits[book.strip()] = amount
        return limits

    def account_book_set(self) -> frozenset[str] | None:
        """ARB_ACCOUNT_BOOKS as a set (None: every book)."""
        from arb_pipeline.arb.accounts import parse_books

        return parse_books(self.account_books, "ARB_ACCOUNT_BOOKS")

    def consensus_book_set(self) -> frozenset[str] | None:
        """ARB_CONSENSUS_BOOKS as a set (None: every book)."""
        from arb_pipeline.arb.accounts import parse_books

        return parse_books(self.consensus_books, "ARB_CONSENSUS_BOOKS")

    def odds_refresh_for(self, sport: str) -> float:
        """Seconds a sport's fetched odds are reused before the next fetch (0: every scan)."""
        for item in filter(None, (part.strip() for part in self.odds_refresh_by_sport.split(","))):
            name, _, seconds = item.partition(":")
            if name.strip() != sport:
                continue
            try:
                value = float(seconds)
            except ValueError:
                value = -1.0
            if not value >= 0:
                raise ValueError(f"ARB_ODDS_REFRESH_BY_SPORT: {seconds!r} for {name.strip()!r} is not a number of "
                                 "seconds >= 0")
            return value
        return self.odds_refresh_s

    def sharp_book_weights(self) -> dict[str, float]:
        weights: dict[str, float] = {}
        for item in filter(None, (part.strip() for part in self.sharp_books.split(","))):
            name, _, weight = item.partition(":")
            try:
                weights[name.strip()] = float(weight or 1)
            except ValueError as exc:
                raise ValueError(
                    f"ARB_SHARP_BOOK_WEIGHTS: weight {weight!r} for book {name!r} is not a number"
                ) from exc
        return weights


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
