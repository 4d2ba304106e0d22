"use strict";
// gatewarden investigator UI: plain DOM, no framework, no external assets.
// Every string from the API is inserted as text (never as HTML).

const SVGNS = "http://www.w3.org/2000/svg";
const $view = document.getElementById("view");
let me = null;

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) el.append(k instanceof Node ? k : String(k));
  return el;
}

function s(tag, attrs, ...kids) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) el.append(k instanceof Node ? k : String(k));
  return el;
}

class APIError extends Error {}

async function api(path) {
  const res = await fetch(path, {credentials: "same-origin"});
  if (res.status === 401) {
    location.href = "/login";
    throw new APIError("not signed in");
  }
  const j = await res.json().catch(() => ({error: res.statusText}));
  if (!res.ok) throw new APIError(j.error || ("HTTP " + res.status));
  return j;
}

function showError(e) {
  $view.replaceChildren(h("div", {class: "panel error", id: "error"}, String(e.message || e)));
}

// Times: the API speaks UTC; investigators are shown UTC too, to match
// the evidence and the other tools.
function shortTS(ts) { return ts ? ts.replace("T", " ").replace(/\.(\d{3})\d*Z$/, ".$1").replace(/Z$/, "") : ""; }

function toInputTime(ts) { return ts ? ts.slice(0, 16) : ""; }

function outcomeTag(o) { return o ? h("span", {class: "tag outcome-" + o}, o.replace("_", " ")) : ""; }
function ruleTags(rules) { return (rules || []).map((r) => h("span", {class: "tag rule"}, r)); }

function setNav(name) {
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === name);
}

function query(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== undefined && v !== null) u.set(k, v);
  return u.toString();
}

function hashParams() {
  const i = location.hash.indexOf("?");
  return new URLSearchParams(i < 0 ? "" : location.hash.slice(i + 1));
}

// ---------- search ----------

function defaultRange() {
  // The last day of retained data, so a fresh page shows something.
  if (!me || !me.newest) return {from: "", to: ""};
  const to = new Date(Date.parse(me.newest) + 60000);
  const from = new Date(to.getTime() - 24 * 3600e3);
  return {from: from.toISOString().slice(0, 16), to: to.toISOString().slice(0, 16)};
}

async function searchPage() {
  setNav("search");
  const p = hashParams();
  const def = defaultRange();
  const field = (name, label, el) => h("label", {for: "f-" + name}, label, el);
  const input = (name, attrs) => h("input", Object.assign({id: "f-" + name, name, value: p.get(name) || ""}, attrs));
  const role = h("select", {id: "f-role", name: "role"},
    ["any", "calling", "called", "redirecting", "original_called", "generic", "redirection"].map((r) =>
      h("option", {value: r, selected: (p.get("role") || "any") === r}, r.replace("_", " "))));
  const from = input("from", {type: "datetime-local", value: p.get("from") || def.from});
  const to = input("to", {type: "datetime-local", value: p.get("to") || def.to});
  const form = h("form", {id: "search-form", class: "panel", onsubmit: (ev) => {
    ev.preventDefault();
    const fd = new FormData(form);
    const params = {};
    for (const [k, v] of fd.entries()) params[k] = v;
    if (params.role === "any") delete params.role;
    location.hash = "#/search?" + query(params);
  }},
  h("div", {class: "form-grid"},
    field("number", "Number", input("number", {placeholder: "e.g. 13800138000", inputmode: "tel", autofocus: true})),
    field("role", "Role", role),
    field("from", "From (UTC)", from),
    field("to", "To (UTC)", to),
    field("partner", "Partner", input("partner", {placeholder: "any"})),
    field("rule", "Rule", input("rule", {placeholder: "any, e.g. cli.missing"})),
    field("limit", "Limit", input("limit", {type: "number", min: 1, max: 1000, placeholder: "100"}))),
  h("div", {class: "actions"},
    h("button", {type: "submit", id: "search-button"}, "Search"),
    h("span", {class: "muted small"}, "Numbers match in every form (national, international, with prefixes).")));
  const results = h("div", {id: "results"});
  $view.replaceChildren(form, results);
  if (!location.hash.includes("?")) return;

  const params = {};
  for (const k of ["number", "role", "from", "to", "partner", "rule", "limit"]) if (p.get(k)) params[k] = p.get(k);
  for (const k of ["from", "to"]) if (params[k] && params[k].length === 16) params[k] += ":00Z";
  results.replaceChildren(h("div", {class: "empty"}, "Searching…"));
  let res;
  try {
    res = await api("/api/calls?" + query(params));
  } catch (e) {
    results.replaceChildren(h("div", {class: "panel error", id: "search-error"}, e.message));
    return;
  }
  const canPcap = me && me.role !== "viewer";
  const head = h("div", {class: "actions"},
    h("h2", {}, `${res.count} call${res.count === 1 ? "" : "s"}${res.truncated ? " (limit reached: narrow the search)" : ""}`),
    canPcap && res.count > 0 ? h("a", {id: "pcap-download", class: "button", href: "/api/pcap?" + query(params), download: ""},
      h("button", {type: "button"}, "⤓ Download pcap")) : "");
  if (res.count === 0) {
    results.replaceChildren(h("div", {class: "panel"}, head, h("div", {class: "empty"}, "No calls match.")));
    return;
  }
  const rows = res.calls.map((c) => h("tr", {class: c.id ? "clickable" : "", "data-id": c.id || "", onclick: () => { if (c.id) location.hash = "#/call/" + c.id; }},
    h("td", {class: "mono"}, c.id ? h("a", {href: "#/call/" + c.id}, shortTS(c.start)) : shortTS(c.start)),
    h("td", {class: "mono"}, c.calling || "—"),
    h("td", {class: "mono"}, c.called || "—"),
    h("td", {}, c.partner || h("span", {class: "muted"}, "—")),
    h("td", {class: "mono small"}, c.link || ""),
    h("td", {class: "mono"}, `${c.opc_pc || c.opc} → ${c.dpc_pc || c.dpc}`),
    h("td", {class: "num mono"}, c.cic),
    h("td", {}, outcomeTag(c.outcome)),
    h("td", {class: "seq"}, (c.sequence || []).join(" ")),
    h("td", {}, ruleTags(c.rules))));
  results.replaceChildren(h("div", {class: "panel"}, head,
    h("table", {id: "results-table"},
      h("thead", {}, h("tr", {}, ["Start (UTC)", "Calling", "Called", "Partner", "Link", "OPC → DPC", "CIC", "Outcome", "Messages", "Alerts"].map((t) => h("th", {class: t === "CIC" ? "num" : ""}, t)))),
      h("tbody", {}, rows))));
}

// ---------- call page ----------

function ladderSVG(call, onSelect) {
  const [A, B] = call.points;
  const W = 760, left = 190, right = 640, top = 64, row = 46;
  const H = top + call.ladder.length * row + 24;
  const t0 = call.ladder.length ? Date.parse(call.ladder[0].ts) : 0;
  const svg = s("svg", {viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "message ladder"});
  const node = (x, label, sub) => s("g", {class: "node"},
    s("rect", {x: x - 80, y: 6, width: 160, height: 40, rx: 6}),
    s("text", {x, y: 24}, label),
    s("text", {x, y: 39, class: "sub"}, sub));
  const iam = call.ladder.find((m) => m.type === "IAM") || call.ladder[0] || {};
  const sip = (iam.protocol || "").startsWith("sip");
  svg.append(node(left, sip ? A : "PC " + A, sip ? "SIP " + iam.transport : iam.src || "originating"),
    node(right, sip ? B : "PC " + B, sip ? "SIP " + iam.transport : iam.dst || "terminating"));
  svg.append(s("line", {class: "life", x1: left, y1: 46, x2: left, y2: H - 8}), s("line", {class: "life", x1: right, y1: 46, x2: right, y2: H - 8}));
  call.ladder.forEach((m, i) => {
    const y = top + i * row + 26;
    const fwd = m.opc_pc === A || (m.opc_pc !== B && i === 0);
    const x1 = fwd ? left : right, x2 = fwd ? right : left;
    const relish = /^(REL|RLC|RSC|GRS|BLO|CGB)$/.test(m.type);
    const cls = "msg" + (fwd ? "" : " rev") + (relish ? " rel" : "");
    const dir = fwd ? -1 : 1;
    const dt = Date.parse(m.ts) - t0;
    const g = s("g", {class: cls, "data-index": i, onclick: () => onSelect(i)},
      s("rect", {class: "hit", x: 0, y: y - 30, width: W, height: row}),
      s("text", {class: "time", x: 8, y: y - 4}, shortTS(m.ts).slice(11)),
      s("text", {class: "time", x: 8, y: y + 10}, "+" + (dt / 1000).toFixed(3) + " s"),
      s("line", {x1, y1: y, x2: x2 + dir * 9, y2: y}),
      s("polygon", {class: "arrow" + (fwd ? "" : " rev") + (relish ? " rel" : ""), points: `${x2},${y} ${x2 + dir * 11},${y - 5} ${x2 + dir * 11},${y + 5}`}),
      s("text", {class: "name", x: (left + right) / 2, y: y - 7}, m.type),
      s("text", {class: "cic", x: (left + right) / 2, y: y + 15}, (m.protocol || "").startsWith("sip") ? `Call-ID ${(m.decoded && m.decoded.sip && m.decoded.sip.call_id) || ""}`
        : `${m.protocol === "bicc" ? "BICC call instance" : "CIC"} ${m.cic}  SLS ${m.sls}`));
    svg.append(g);
  });
  return svg;
}

// flatten turns the decoded JSON of a message into rows of parameter name and value.
function flatten(obj, prefix, out) {
  for (const [k, v] of Object.entries(obj)) {
    const name = prefix ? prefix + "." + k : k;
    if (v && typeof v === "object" && !Array.isArray(v)) flatten(v, name, out);
    else if (Array.isArray(v)) v.forEach((x, i) => (x && typeof x === "object") ? flatten(x, `${name}[${i}]`, out) : out.push([`${name}[${i}]`, x]));
    else out.push([name, v]);
  }
  return out;
}

function paramPanel(m) {
  const rows = m.decoded ? flatten(m.decoded, "", []) : [["decode_error", m.decode_error || "not decoded"]];
  return h("div", {id: "params"},
    h("h3", {}, `${m.type} — every decoded parameter`),
    h("table", {class: "param-table"}, h("tbody", {}, rows.map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, String(v)))))),
    m.mtp3 && (m.protocol || "").startsWith("sip") ? h("div", {}, h("h3", {class: "small"}, "SIP message"), h("pre", {class: "hex"}, sipText(m.mtp3))) :
    m.mtp3 ? h("div", {}, h("h3", {class: "small"}, "MTP3 bytes (SIO, label, ISUP)"), h("pre", {class: "hex"}, m.mtp3.replace(/(..)/g, "$1 ").trim())) : "");
}

// sipText shows a stored SIP message (hex) as text; binary body octets (an
// ISUP part) as dots.
function sipText(hex) {
  let out = "";
  for (let i = 0; i + 1 < hex.length; i += 2) {
    const c = parseInt(hex.slice(i, i + 2), 16);
    out += c === 10 || c === 13 || c === 9 || (c >= 32 && c < 127) ? String.fromCharCode(c) : ".";
  }
  return out.replace(/\r\n/g, "\n");
}

async function callPage(id) {
  setNav("search");
  $view.replaceChildren(h("div", {class: "empty"}, "Loading call…"));
  let c;
  try {
    c = await api("/api/calls/" + encodeURIComponent(id));
  } catch (e) { showError(e); return; }
  const side = h("div", {});
  let sel = Math.max(0, c.ladder.findIndex((m) => m.type === "IAM"));
  const ladderBox = h("div", {class: "panel ladder", id: "ladder"});
  const select = (i) => {
    sel = i;
    side.replaceChildren(paramPanel(c.ladder[i]));
    for (const g of ladderBox.querySelectorAll(".msg")) g.classList.toggle("selected", Number(g.dataset.index) === i);
  };
  ladderBox.append(h("h3", {}, "Message ladder"), ladderSVG(c, select));
  const kv = (pairs) => h("dl", {class: "kv"}, pairs.filter(([, v]) => v !== undefined && v !== "" && v !== null).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  const ing = c.ingress || {};
  const summary = h("div", {class: "panel", id: "call-summary"},
    h("div", {class: "actions"}, h("h2", {}, `Call ${c.calling || "?"} → ${c.called || "?"}`), outcomeTag(c.outcome), ruleTags(c.rules),
      me && me.role !== "viewer" ? h("a", {id: "call-pcap", href: "/api/pcap?" + query({number: c.calling || c.called, from: c.start, to: c.ladder.length ? new Date(Date.parse(c.ladder[c.ladder.length - 1].ts) + 1000).toISOString() : ""}), download: ""}, h("button", {type: "button", class: "secondary"}, "⤓ pcap")) : ""),
    kv([["Start (UTC)", shortTS(c.start)], ["Partner", c.partner || "—"], ["Direction", c.direction], ["Ingress link", ing.link || c.link], ["Protocol", (ing.protocol || "").toUpperCase()],
      ["Peer → local", ing.peer ? `${ing.peer} → ${ing.local}` : ""], ["Routing context", ing.rc], ["Capture source", ing.source],
      ["OPC → DPC", `${c.opc_pc || c.opc} → ${c.dpc_pc || c.dpc}`], ["CIC", c.cic], ["Cause", c.cause || ""], ["Analysis call id", c.call_id]]));
  const alerts = c.alerts.length ? h("div", {class: "panel", id: "call-alerts"}, h("h3", {}, "Alerts"),
    h("table", {}, h("tbody", {}, c.alerts.map((a) => h("tr", {}, h("td", {}, h("span", {class: "tag " + (a.severity === "critical" ? "critical" : "rule")}, a.rule)),
      h("td", {class: "mono small"}, shortTS(a.ts)), h("td", {}, a.detail || "")))))) : "";
  $view.replaceChildren(summary, alerts, h("div", {class: "cols"}, ladderBox, h("div", {class: "panel"}, side)));
  if (c.ladder.length) select(sel);
}

// ---------- alerts ----------

async function alertsPage() {
  setNav("alerts");
  const p = hashParams();
  const form = h("form", {class: "panel", onsubmit: (ev) => {
    ev.preventDefault();
    location.hash = "#/alerts?" + query({rule: form.rule.value, partner: form.partner.value});
  }}, h("div", {class: "form-grid"},
    h("label", {}, "Rule", h("input", {name: "rule", value: p.get("rule") || "", placeholder: "any"})),
    h("label", {}, "Partner", h("input", {name: "partner", value: p.get("partner") || "", placeholder: "any"})),
    h("div", {}, h("button", {type: "submit"}, "Filter"))));
  const box = h("div", {class: "panel", id: "alerts"}, h("div", {class: "empty"}, "Loading…"));
  $view.replaceChildren(form, box);
  let res;
  try {
    res = await api("/api/alerts?" + query({rule: p.get("rule"), partner: p.get("partner"), limit: 300}));
  } catch (e) { box.replaceChildren(h("div", {class: "error"}, e.message)); return; }
  if (!res.count) { box.replaceChildren(h("div", {class: "empty"}, "No alerts in the last 92 days of data.")); return; }
  box.replaceChildren(h("h2", {}, `${res.count} most recent alerts`), h("table", {},
    h("thead", {}, h("tr", {}, ["Time (UTC)", "Rule", "Severity", "Partner", "Calling", "Called", "Circuit", "Detail", ""].map((t) => h("th", {}, t)))),
    h("tbody", {}, res.alerts.map((it) => {
      const a = it.alert;
      return h("tr", {},
        h("td", {class: "mono small"}, shortTS(a.ts), it.live ? h("span", {class: "tag info"}, "live") : ""),
        h("td", {}, h("a", {href: "#/alerts?" + query({rule: a.rule})}, h("span", {class: "tag " + (a.severity === "critical" ? "critical" : "rule")}, a.rule))),
        h("td", {}, a.severity),
        h("td", {}, a.partner ? h("a", {href: "#/partner/" + encodeURIComponent(a.partner)}, a.partner) : "—"),
        h("td", {class: "mono"}, a.calling || ""), h("td", {class: "mono"}, a.called || ""),
        h("td", {class: "mono small"}, `${a.opc}→${a.dpc} / ${a.cic}`),
        h("td", {class: "small"}, a.detail || ""),
        h("td", {}, it.call ? h("a", {href: "#/call/" + it.call}, "call →") : ""));
    }))));
}

// ---------- partners ----------

async function partnersPage() {
  setNav("partners");
  $view.replaceChildren(h("div", {class: "empty"}, "Loading…"));
  let res;
  try { res = await api("/api/partners"); } catch (e) { showError(e); return; }
  const rules = [...new Set(res.partners.flatMap((p) => Object.keys(p.by_rule)))].sort();
  $view.replaceChildren(h("div", {class: "panel", id: "partners"},
    h("h2", {}, "Partner scorecards"), h("p", {class: "muted small"}, `${shortTS(res.from)} — ${shortTS(res.to)} UTC. Whoever connects a call is accountable for it.`),
    h("table", {},
      h("thead", {}, h("tr", {}, ["Partner", "Calls", "Flagged", "Flagged %", ...rules, "Links"].map((t, i) => h("th", {class: i > 0 && i < 4 + rules.length ? "num" : ""}, t)))),
      h("tbody", {}, res.partners.map((p) => h("tr", {class: "clickable", onclick: () => { location.hash = "#/partner/" + encodeURIComponent(p.partner); }},
        h("td", {}, h("a", {href: "#/partner/" + encodeURIComponent(p.partner)}, p.partner || "(no partner)")),
        h("td", {class: "num"}, p.calls), h("td", {class: "num"}, p.flagged),
        h("td", {class: "num"}, p.calls ? (100 * p.flagged / p.calls).toFixed(1) : "—"),
        rules.map((r) => h("td", {class: "num"}, p.by_rule[r] || "")),
        h("td", {class: "mono small"}, p.links.join(", "))))))));
}

function chartSVG(series) {
  const W = 980, H = 240, L = 46, R = 12, T = 12, B = 34;
  const n = series.length || 1;
  const max = Math.max(1, ...series.map((p) => Math.max(p.calls, p.alerts)));
  const bw = (W - L - R) / n;
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const svg = s("svg", {viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "calls and alerts per hour"});
  for (let k = 0; k <= 4; k++) {
    const v = Math.round(max * k / 4);
    svg.append(s("line", {class: "axis", x1: L, x2: W - R, y1: y(v), y2: y(v)}), s("text", {x: L - 6, y: y(v) + 4, "text-anchor": "end"}, v));
  }
  series.forEach((p, i) => {
    const x = L + i * bw;
    if (p.calls) svg.append(s("rect", {class: "bar", x: x + 0.5, y: y(p.calls), width: Math.max(1, bw - 1), height: y(0) - y(p.calls)}, s("title", {}, `${p.t}: ${p.calls} calls`)));
    if (p.flagged) svg.append(s("rect", {class: "bar flag", x: x + 0.5, y: y(p.flagged), width: Math.max(1, bw - 1), height: y(0) - y(p.flagged)}, s("title", {}, `${p.t}: ${p.flagged} flagged`)));
  });
  svg.append(s("polyline", {class: "alerts", points: series.map((p, i) => `${L + (i + 0.5) * bw},${y(p.alerts)}`).join(" ")}));
  const step = Math.max(1, Math.ceil(n / 8));
  for (let i = 0; i < n; i += step) svg.append(s("text", {x: L + i * bw, y: H - 12}, series[i].t.slice(5, 13).replace("T", " ") + "h"));
  return svg;
}

async function partnerPage(name) {
  setNav("partners");
  $view.replaceChildren(h("div", {class: "empty"}, "Loading…"));
  let res;
  try {
    // A week of hourly points ending at the newest data.
    const to = me && me.newest ? new Date(Date.parse(me.newest) + 60000) : new Date();
    // Up to a week of hourly points, but no empty days before the data starts.
    const oldest = me && me.oldest ? Date.parse(me.oldest) - 3600e3 : 0;
    const from = new Date(Math.max(to.getTime() - 7 * 24 * 3600e3, oldest));
    res = await api("/api/scorecard?" + new URLSearchParams({partner: name, from: from.toISOString(), to: to.toISOString()}));
  } catch (e) { showError(e); return; }
  const p = res.partner;
  const rules = Object.entries(p.by_rule).sort((a, b) => b[1] - a[1]);
  $view.replaceChildren(
    h("div", {class: "panel", id: "scorecard"},
      h("h2", {}, `Partner ${p.partner || "(no partner)"}`),
      h("p", {class: "muted small"}, `${shortTS(res.from)} — ${shortTS(res.to)} UTC`),
      h("dl", {class: "kv"}, h("dt", {}, "Calls"), h("dd", {}, p.calls), h("dt", {}, "Flagged calls"), h("dd", {}, `${p.flagged} (${p.calls ? (100 * p.flagged / p.calls).toFixed(1) : 0}%)`),
        h("dt", {}, "Alerts"), h("dd", {}, p.alerts), h("dt", {}, "Links"), h("dd", {}, p.links.join(", ") || "—"))),
    h("div", {class: "cols"},
      h("div", {class: "panel chart"}, h("h3", {}, "Per hour"),
        h("div", {class: "legend small muted"}, h("span", {}, h("i", {class: "lg-calls"}), "calls"), h("span", {}, h("i", {class: "lg-flag"}), "flagged"), h("span", {}, h("i", {class: "lg-alerts"}), "alerts")),
        chartSVG(res.series)),
      h("div", {class: "panel"}, h("h3", {}, "Flagged by rule"),
        rules.length ? h("table", {}, h("tbody", {}, rules.map(([r, n]) => h("tr", {},
          h("td", {}, h("a", {href: "#/search?" + query({rule: r, partner: p.partner})}, h("span", {class: "tag rule"}, r))),
          h("td", {class: "num"}, n))))) : h("div", {class: "empty"}, "No alerts."))));
}

// ---------- audit ----------

async function auditPage() {
  setNav("audit");
  let res;
  try { res = await api("/api/audit?limit=500"); } catch (e) { showError(e); return; }
  $view.replaceChildren(h("div", {class: "panel", id: "audit"}, h("h2", {}, "Audit log (newest first)"),
    h("table", {}, h("thead", {}, h("tr", {}, ["When (UTC)", "User", "Role", "Endpoint", "What was searched", "Results", "Status", "From"].map((t) => h("th", {}, t)))),
      h("tbody", {}, res.entries.map((e) => h("tr", {},
        h("td", {class: "mono small"}, shortTS(e.ts)), h("td", {}, e.user), h("td", {}, e.role || ""),
        h("td", {class: "mono small"}, `${e.method} ${e.endpoint}`),
        h("td", {class: "mono small"}, Object.entries(e.params || {}).filter(([, v]) => v !== "").map(([k, v]) => `${k}=${v}`).join("  ")),
        h("td", {class: "num"}, e.results), h("td", {class: "num"}, e.status), h("td", {class: "mono small"}, e.remote)))))));
}

// ---------- router ----------

async function route() {
  const path = location.hash.replace(/^#/, "").split("?")[0] || "/search";
  const parts = path.split("/").filter(Boolean);
  window.scrollTo(0, 0);
  switch (parts[0]) {
    case "call": return callPage(decodeURIComponent(parts[1] || ""));
    case "alerts": return alertsPage();
    case "partners": return partnersPage();
    case "partner": return partnerPage(decodeURIComponent(parts.slice(1).join("/")));
    case "audit": return auditPage();
    default: return searchPage();
  }
}

async function main() {
  try {
    me = await api("/api/me");
  } catch (e) { showError(e); return; }
  document.getElementById("who").textContent = `${me.user} (${me.role})`;
  document.getElementById("nav-audit").hidden = me.role !== "admin";
  document.getElementById("span").textContent = me.oldest
    ? `Retained signalling: ${shortTS(me.oldest)} — ${shortTS(me.newest)} UTC` + (me.role === "viewer" ? " · numbers masked for your role" : "")
    : "The store holds no signalling yet.";
  document.getElementById("logout").addEventListener("click", async () => {
    await fetch("/api/logout", {method: "POST", credentials: "same-origin"});
    location.href = "/login";
  });
  window.addEventListener("hashchange", route);
  document.body.dataset.ready = "1";
  await route();
}

main();
