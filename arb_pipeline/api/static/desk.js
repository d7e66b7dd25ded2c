// The operator's desk: reads the REST API every few seconds and renders it; the kill switch and the
// breaker reset post to the token-guarded routes. No build step, no framework: plain DOM.
// Everything from the API is written with textContent, never innerHTML: team names and reasons come
// from the venues and must never run as code (the page's CSP forbids inline script as well).
"use strict";

(function () {
  const params = new URLSearchParams(window.location.search);
  const REFRESH_S = Math.max(1, Number(params.get("refresh")) || 5);
  const $ = (id) => document.getElementById(id);
  let chart = null;
  let refreshes = 0;

  // --- formatting: exact decimal text in, display text out ------------------------------------------

  // Round a canonical decimal string ("146.7845") half-even to cents with BigInt: no binary float
  // ever touches an amount, so the page shows exactly what the CLI table shows.
  function cents(text) {
    if (text === null || text === undefined || text === "") return "–";
    const negative = text.startsWith("-");
    const [whole, frac = ""] = (negative ? text.slice(1) : text).split(".");
    const scaled = BigInt(whole + (frac + "000").slice(0, 3));
    let value = scaled / 10n;
    const rest = scaled % 10n;
    const beyond = frac.length > 3 && /[1-9]/.test(frac.slice(3));
    if (rest > 5n || (rest === 5n && (beyond || value % 2n === 1n))) value += 1n;
    const digits = value.toString().padStart(3, "0");
    const units = digits.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    const sign = negative && value !== 0n ? "-" : "";
    return `${sign}$${units}.${digits.slice(-2)}`;
  }

  // A price as quoted: exact, without trailing zeros, at least two decimals ("0.24", "1.378").
  function price(text) {
    if (text === null || text === undefined) return "–";
    const [whole, frac = ""] = String(text).split(".");
    return `${whole}.${frac.replace(/0+$/, "").padEnd(2, "0")}`;
  }

  function shortTicker(ticker, event) {
    return event && ticker.startsWith(event + "-") ? "…" + ticker.slice(event.length) : ticker;
  }

  function age(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
    if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
    return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
  }

  function ageSince(iso) {
    return (Date.now() - Date.parse(iso)) / 1000;
  }

  function percent(text) {
    return text === null || text === undefined ? "–" : `${(Number(text) * 100).toFixed(2)}%`;
  }

  // --- DOM helpers ----------------------------------------------------------------------------------

  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function fill(tableId, emptyId, items, build, emptyText) {
    const body = $(tableId).querySelector("tbody");
    body.replaceChildren(...items.map(build));
    $(emptyId).hidden = items.length > 0;
    if (emptyText) $(emptyId).textContent = emptyText;
  }

  async function api(path, options) {
    const response = await fetch(path, Object.assign({ headers: { Accept: "application/json" } }, options));
    let body = null;
    try { body = await response.json(); } catch (_) { body = null; }
    if (!response.ok) {
      const detail = body && body.detail ? (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail)) : response.statusText;
      const error = new Error(`${response.status}: ${detail}`);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  // --- renderers ------------------------------------------------------------------------------------

  function renderHealth(health) {
    const mode = $("mode");
    mode.textContent = health.mode.toUpperCase();
    mode.className = `badge ${health.mode}`;
    $("scan-status").textContent = health.latest_scan_at
      ? `latest scan ${age(health.latest_scan_age_s)} ago`
      : "no scan yet: turn on the scan sensor (make demo does) or run `arb-pipeline run`";
    document.body.dataset.actRoutes = String(health.act_routes_enabled);
    if (!health.act_routes_enabled) {
      $("act-status").textContent = "read-only: the API has no operator token (set ARB_API_TOKEN and restart)";
    }
  }

  function legText(leg, event) {
    if (leg.venue === "kalshi") {
      return `Kalshi ${leg.side.toUpperCase()} ${shortTicker(leg.market, event)} (${leg.outcome}) ${leg.size} @ ${price(leg.price)} fee ${cents(leg.fee)}`;
    }
    return `${leg.bookmaker || leg.market}: back ${leg.outcome} ${cents(leg.size)} @ ${leg.price}`;
  }

  function renderOpportunities(data) {
    const scan = data.scan;
    $("opportunities-scan").textContent = scan
      ? `(scan of ${new Date(scan.captured_at).toLocaleTimeString()}: ${scan.opportunities} found, ${scan.rejected} rejected; ${scan.kalshi_markets} markets, ${scan.sportsbook_quotes} quotes)`
      : "";
    fill("opportunities", "opportunities-empty", data.opportunities, (o) => {
      const row = document.createElement("tr");
      row.className = o.executable ? "executable" : "not-executable";
      row.dataset.opportunityId = o.opportunity_id;
      row.dataset.event = o.event;
      cell(row, o.executable ? o.kind : `${o.kind} (not executed)`);
      cell(row, o.event);
      const legs = cell(row, "");
      for (const leg of o.legs) {
        const span = document.createElement("span");
        span.className = "leg";
        span.textContent = legText(leg, o.event);
        legs.appendChild(span);
      }
      cell(row, cents(o.cost), "num");
      cell(row, cents(o.profit), "num profit");
      cell(row, percent(o.roi), "num");
      cell(row, Number(o.edge_bps).toFixed(0), "num");
      cell(row, age(o.age_s), "num");
      cell(row, o.orders.length ? o.orders.map((x) => `${shortTicker(x.ticker, o.event)} ${x.status}`).join(", ") : "–");
      return row;
    }, scan ? "the latest scan found no opportunity" : "no scan yet");
  }

  // Rows a person is typing into are not rebuilt by the refresh (their inputs would be lost).
  let editingHedge = null;

  function hedgeActions(row, h) {
    const td = cell(row, "");
    if (h.status !== "pending") {
      const taken = h.placed_odds ? `placed ${cents(h.placed_stake)} @ ${price(h.placed_odds)} by ${h.acted_by}` : "";
      td.textContent = h.result ? `${taken}; ${h.result} ${cents(h.payout)}` : (taken || h.note || "");
      return;
    }
    const odds = document.createElement("input");
    odds.className = "hedge-odds"; odds.size = 7; odds.value = h.odds; odds.setAttribute("aria-label", "odds taken");
    const stake = document.createElement("input");
    stake.className = "hedge-stake"; stake.size = 9; stake.value = h.stake; stake.setAttribute("aria-label", "stake");
    for (const input of [odds, stake]) {
      input.addEventListener("focus", () => { editingHedge = h.id; });
      input.addEventListener("blur", () => { editingHedge = null; });
    }
    const placed = document.createElement("button");
    placed.type = "button"; placed.className = "hedge-placed"; placed.textContent = "placed";
    placed.addEventListener("click", async () => {
      const { who } = operator();
      if (!who) { $("act-status").textContent = "say who you are first (your name)"; return; }
      editingHedge = null;
      await act(`/api/hedges/${h.id}/placed`, { odds: odds.value.trim(), stake: stake.value.trim(), who });
    });
    const abandon = document.createElement("button");
    abandon.type = "button"; abandon.className = "hedge-abandon"; abandon.textContent = "abandon";
    abandon.addEventListener("click", async () => {
      const { who } = operator();
      if (!who) { $("act-status").textContent = "say who you are first (your name)"; return; }
      editingHedge = null;
      await act(`/api/hedges/${h.id}/abandon`, { who, why: "abandoned from the dashboard" });
    });
    td.append(odds, " ", stake, " ", placed, " ", abandon);
  }

  function renderHedges(hedges) {
    if (editingHedge !== null) return;
    fill("hedges", "hedges-empty", hedges, (h) => {
      const row = document.createElement("tr");
      row.className = h.status;
      row.dataset.hedgeId = String(h.id);
      cell(row, h.status);
      cell(row, h.bookmaker);
      cell(row, h.event);
      cell(row, h.selection);
      cell(row, cents(h.stake), "num");
      cell(row, h.odds, "num");
      cell(row, h.worst_acceptable_odds || "–", "num");
      cell(row, age(ageSince(h.created_at)), "num");
      cell(row, h.expires_at ? new Date(h.expires_at).toLocaleString() : "–");
      hedgeActions(row, h);
      return row;
    });
  }

  let pnlChart = null;

  function renderPnl(pnl) {
    $("pnl-today").textContent = cents(pnl.today_realized);
    $("pnl-total").textContent = cents(pnl.total_realized);
    $("pnl-unrealized").textContent = cents(pnl.unrealized);
    $("pnl-clv").textContent = pnl.clv_bps_average === null ? "–" : `${pnl.clv_bps_average.toFixed(0)} bps`;
    document.body.dataset.pnlTotal = pnl.total_realized;
    fill("arbitrages", "arbitrages-empty", pnl.arbitrages.slice(0, 30), (a) => {
      const row = document.createElement("tr");
      row.className = a.status;
      row.dataset.opportunityId = a.opportunity_id;
      cell(row, a.event);
      cell(row, a.status);
      cell(row, cents(a.kalshi_cost), "num");
      cell(row, cents(a.book_stakes), "num");
      cell(row, cents(a.locked_profit), "num profit");
      cell(row, cents(a.realized), "num");
      cell(row, cents(a.unrealized), "num");
      cell(row, cents(a.clv.clv_dollars), "num");
      cell(row, a.clv.clv_bps === null ? "–" : `${a.clv.clv_bps.toFixed(0)}${a.clv.final ? "" : "*"}`, "num");
      return row;
    });
    if (!pnl.days.length || typeof uPlot === "undefined") return;
    // cumulative realized and each day's realized, by UTC day (display only: floats of cent amounts)
    const x = pnl.days.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000);
    const data = [x, pnl.days.map((d) => Number(d.cumulative)), pnl.days.map((d) => Number(d.realized))];
    const width = Math.max(300, $("pnl-chart").clientWidth - 10);
    if (pnlChart) { pnlChart.setSize({ width, height: 180 }); pnlChart.setData(data); return; }
    pnlChart = new uPlot({
      width, height: 180,
      scales: { x: { time: true, range: (u, min, max) => (max - min < 86400 ? [min - 86400, max + 86400] : [min, max]) } },
      axes: [{ stroke: "#8b96a3" }, { stroke: "#8b96a3", label: "$" }],
      series: [{}, { label: "cumulative realized ($)", stroke: "#3fb950", points: { show: true } },
        { label: "realized that day ($)", stroke: "#58a6ff", points: { show: true } }],
    }, data, $("pnl-chart"));
  }

  function renderPositions(games) {
    const rows = [];
    for (const game of games) {
      for (const p of game.positions) rows.push({ game, p });
    }
    fill("positions", "positions-empty", rows, ({ game, p }) => {
      const row = document.createElement("tr");
      cell(row, game.event);
      cell(row, shortTicker(p.ticker, game.event));
      cell(row, (p.side || "").toUpperCase());
      cell(row, p.contracts, "num");
      cell(row, cents(p.cost), "num");
      return row;
    });
  }

  function renderBreaker(b, unhedged) {
    const badge = $("breaker-badge");
    badge.textContent = `breaker ${b.state.replace("_", "-")}${b.manual ? " (kill switch)" : ""}`;
    badge.className = `badge ${b.state}`;
    document.body.dataset.breaker = b.state;
    $("breaker-description").textContent = b.description;
    $("breaker-realized").textContent = cents(b.realized_pnl_today);
    $("breaker-loss").textContent = `${cents(b.loss_today)} / ${cents(b.limits.max_daily_loss)}`;
    $("breaker-exposure").textContent = `${cents(b.open_exposure)} / ${cents(b.limits.max_open_exposure)}`;
    $("breaker-unhedged").textContent = unhedged;
  }

  function renderAlerts(alerts) {
    const list = $("alerts");
    list.replaceChildren(...alerts.slice(0, 20).map((a) => {
      const item = document.createElement("li");
      item.className = a.severity;
      const when = document.createElement("span");
      when.className = "when";
      when.textContent = new Date(a.last_seen_at).toLocaleString();
      const text = document.createElement("span");
      const repeats = a.suppressed_count ? ` (+${a.suppressed_count} repeats)` : "";
      text.textContent = `[${a.severity}] ${a.title}${repeats}`;
      text.title = a.body;
      item.append(when, text);
      return item;
    }));
    $("alerts-empty").hidden = alerts.length > 0;
  }

  function renderScans(scans) {
    const latest = scans.length ? scans[scans.length - 1] : null;
    const quota = scans.slice().reverse().find((s) => s.odds_quota_remaining !== null);
    $("quota").textContent = quota ? `odds API credits left: ${quota.odds_quota_remaining}` : "odds API credits: unknown";
    if (!latest || typeof uPlot === "undefined") return;
    const x = scans.map((s) => Date.parse(s.captured_at) / 1000);
    const found = scans.map((s) => s.opportunities);
    const edge = scans.map((s) => s.best_edge_bps);
    const data = [x, found, edge];
    const width = Math.max(300, $("scan-chart").clientWidth - 10);
    if (chart) {
      chart.setSize({ width, height: 180 });
      chart.setData(data);
      return;
    }
    chart = new uPlot({
      width, height: 180,
      // a lone scan still gets a readable axis: a minute either side instead of years
      scales: { x: { time: true, range: (u, min, max) => (max - min < 60 ? [min - 60, max + 60] : [min, max]) },
        n: {}, bps: {} },
      axes: [{ stroke: "#8b96a3" }, { scale: "n", stroke: "#8b96a3", label: "found" },
        { scale: "bps", side: 1, stroke: "#8b96a3", label: "best edge bps", grid: { show: false } }],
      series: [{}, { label: "opportunities", scale: "n", stroke: "#3fb950" },
        { label: "best edge (bps)", scale: "bps", stroke: "#58a6ff" }],
    }, data, $("scan-chart"));
  }

  // --- refresh loop -----------------------------------------------------------------------------------

  async function refresh() {
    try {
      const [health, opportunities, hedges, positions, breaker, alerts, scans, pnl] = await Promise.all([
        api("/api/health"), api("/api/opportunities"), api("/api/hedges"), api("/api/positions"),
        api("/api/breaker"), api("/api/alerts?limit=20"), api("/api/scans?limit=120"), api("/api/pnl?limit=100"),
      ]);
      renderHealth(health);
      renderOpportunities(opportunities);
      renderHedges(hedges);
      renderPositions(positions);
      const pending = hedges.filter((h) => h.status === "pending").length;
      renderBreaker(breaker, pending ? `${pending} hedge(s) to place` : "nothing waiting");
      renderAlerts(alerts);
      renderScans(scans);
      renderPnl(pnl);
      $("error").hidden = true;
      refreshes += 1;
      document.body.dataset.refreshes = String(refreshes);
      $("refreshed").textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      $("error").hidden = false;
      $("error").textContent = `the API did not answer (${error.message}); retrying every ${REFRESH_S}s`;
    }
  }

  // --- acting: kill switch and reset ----------------------------------------------------------------

  function operator() {
    const token = $("token").value.trim();
    const who = $("who").value.trim();
    sessionStorage.setItem("arb.token", token);
    localStorage.setItem("arb.who", who);
    return { token, who };
  }

  async function act(path, body) {
    const { token } = operator();
    $("act-status").textContent = "…";
    try {
      await api(path, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      $("act-status").textContent = "done";
      await refresh();
      return true;
    } catch (error) {
      $("act-status").textContent = error.status === 401 ? "refused: wrong or missing operator token"
        : `refused: ${error.message}`;
      return false;
    }
  }

  function wire() {
    $("token").value = sessionStorage.getItem("arb.token") || "";
    $("who").value = localStorage.getItem("arb.who") || "";
    $("refresh-seconds").textContent = String(REFRESH_S);
    $("kill-switch").addEventListener("click", () => { $("kill-confirm-box").hidden = false; });
    $("kill-switch-cancel").addEventListener("click", () => { $("kill-confirm-box").hidden = true; });
    $("kill-switch-confirm").addEventListener("click", async () => {
      const { who } = operator();
      if (!who) { $("act-status").textContent = "say who you are first (your name)"; return; }
      const reason = $("kill-reason").value.trim() || "manual kill switch (dashboard)";
      if (await act("/api/breaker/trip", { reason, who })) $("kill-confirm-box").hidden = true;
    });
    $("breaker-reset").addEventListener("click", async () => {
      const { who } = operator();
      if (!who) { $("act-status").textContent = "say who you are first (your name)"; return; }
      await act("/api/breaker/reset", { who });
    });
    refresh();
    window.setInterval(refresh, REFRESH_S * 1000);
  }

  window.deskFormat = { cents, price, shortTicker, age };  // for the browser test
  document.addEventListener("DOMContentLoaded", wire);
})();
