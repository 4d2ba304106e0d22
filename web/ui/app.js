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

// ---------- times ----------
// The API speaks UTC. Times are shown in the display zone of the
// configuration (daemon.web.display_time_zone, e.g. Asia/Shanghai), with
// UTC one click away (the header toggle, remembered in this browser).

function zone() {
  const z = localStorage.getItem("gw-zone");
  if (z === "UTC") return "UTC";
  return (me && me.display_zone) || "UTC";
}

const partFormats = {};
// zoneParts splits an instant (ms) into its calendar fields in zone z.
function zoneParts(ms, z) {
  const f = partFormats[z] || (partFormats[z] = new Intl.DateTimeFormat("en-US", {timeZone: z, hourCycle: "h23",
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit"}));
  const o = {};
  for (const p of f.formatToParts(new Date(ms))) o[p.type] = p.value;
  return o;
}

// zoneOffset is how far zone z is ahead of UTC at instant ms.
function zoneOffset(ms, z) {
  const o = zoneParts(ms, z);
  return Date.UTC(+o.year, +o.month - 1, +o.day, +o.hour, +o.minute, +o.second) - Math.floor(ms / 1000) * 1000;
}

// shortTS shows an API time (RFC 3339, UTC, ns) in the display zone, to the millisecond.
function shortTS(ts) {
  if (!ts) return "";
  const ms = Date.parse(ts);
  if (isNaN(ms)) return ts;
  const frac = (/\.(\d{1,3})/.exec(ts) || [, "000"])[1].padEnd(3, "0");
  const o = zoneParts(ms, zone());
  return `${o.year}-${o.month}-${o.day} ${o.hour}:${o.minute}:${o.second}.${frac}`;
}

// parseTimeParam reads a time as the API does: RFC 3339, a date (as an
// upper bound, the end of that day) or a date and time without offset
// (UTC). It returns ms, or NaN.
function parseTimeParam(v, upper) {
  if (!v) return NaN;
  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (m) return Date.UTC(+m[1], +m[2] - 1, +m[3] + (upper ? 1 : 0));
  m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(v);
  if (m) return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
  return Date.parse(v);
}

// toInputTime renders an instant (ms) for a datetime-local input in the display zone.
function toInputTime(ms) {
  if (isNaN(ms)) return "";
  const o = zoneParts(ms, zone());
  return `${o.year}-${o.month}-${o.day}T${o.hour}:${o.minute}`;
}

// fromInputTime turns a datetime-local value (display zone) into RFC 3339 UTC.
function fromInputTime(v) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(v || "");
  if (!m) return "";
  const guess = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  let t = guess - zoneOffset(guess, zone());
  t = guess - zoneOffset(t, zone()); // across a DST change
  return new Date(t).toISOString().replace(".000Z", "Z");
}

// timeField is a datetime-local input filled from URL parameter name, in
// any form the API accepts, or def (ms) when absent.
function timeField(p, name, upper, def) {
  const v = p.get(name);
  const ms = v ? parseTimeParam(v, upper) : def;
  return h("input", {id: "f-" + name, name, type: "datetime-local", value: toInputTime(ms)});
}

function zoneLabel() { return zone() === "UTC" ? "UTC" : zone(); }

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

// callHref links a call's page; over the central store the box is part of
// the call's name (a call id names a call within one box).
function callHref(id, box) {
  return "#/call/" + encodeURIComponent(id) + (box ? "?" + query({box}) : "");
}

function hashParams() {
  const i = location.hash.indexOf("?");
  return new URLSearchParams(i < 0 ? "" : location.hash.slice(i + 1));
}

// ---------- search ----------

function defaultRange() {
  // The last day of retained data, so a fresh page shows something.
  if (!me || !me.newest) return {from: NaN, to: NaN};
  const to = Date.parse(me.newest) + 60000;
  return {from: to - 24 * 3600e3, to};
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
  const from = timeField(p, "from", false, def.from);
  const to = timeField(p, "to", true, def.to);
  const form = h("form", {id: "search-form", class: "panel", onsubmit: (ev) => {
    ev.preventDefault();
    const fd = new FormData(form);
    const params = {};
    for (const [k, v] of fd.entries()) params[k] = v;
    if (params.role === "any") delete params.role;
    params.from = fromInputTime(params.from);
    params.to = fromInputTime(params.to);
    location.hash = "#/search?" + query(params);
  }},
  h("div", {class: "form-grid"},
    field("number", "Number", input("number", {placeholder: "e.g. 13800138000", inputmode: "tel", autofocus: true})),
    field("role", "Role", role),
    field("from", `From (${zoneLabel()})`, from),
    field("to", `To (${zoneLabel()})`, to),
    field("partner", "Partner", input("partner", {placeholder: "any"})),
    field("rule", "Rule", input("rule", {placeholder: "any, e.g. cli.missing"})),
    me && me.central ? field("box", "Box", input("box", {placeholder: "any gateway box"})) : "",
    field("limit", "Limit", input("limit", {type: "number", min: 1, max: 1000, placeholder: "100"}))),
  h("div", {class: "actions"},
    h("button", {type: "submit", id: "search-button"}, "Search"),
    h("span", {class: "muted small"}, "Numbers match in every form (national, international, with prefixes).")));
  const results = h("div", {id: "results"});
  $view.replaceChildren(form, results);
  if (!location.hash.includes("?")) return;

  const params = {};
  // Passed on as written: the API reads every time format the form does.
  for (const k of ["number", "role", "from", "to", "partner", "rule", "box", "limit"]) if (p.get(k)) params[k] = p.get(k);
  results.replaceChildren(h("div", {class: "empty"}, "Searching…"));
  let res;
  try {
    res = await api("/api/calls?" + query(params));
  } catch (e) {
    results.replaceChildren(h("div", {class: "panel error", id: "search-error"}, e.message));
    return;
  }
  const canPcap = me && me.role !== "viewer" && !me.central;
  const boxes = res.calls.some((c) => c.box);
  const head = h("div", {class: "actions"},
    h("h2", {}, `${res.count} call${res.count === 1 ? "" : "s"}${res.truncated ? " (limit reached: narrow the search)" : ""}`),
    canPcap && res.count > 0 ? h("a", {id: "pcap-download", class: "button", href: "/api/pcap?" + query(params), download: ""},
      h("button", {type: "button"}, "⤓ Download pcap")) : "");
  if (res.count === 0) {
    results.replaceChildren(h("div", {class: "panel"}, head, h("div", {class: "empty"}, "No calls match.")));
    return;
  }
  const rows = res.calls.map((c) => h("tr", {class: c.id ? "clickable" : "", "data-id": c.id || "", "data-box": c.box || "", onclick: () => { if (c.id) location.hash = callHref(c.id, c.box); }},
    h("td", {class: "mono"}, c.id ? h("a", {href: callHref(c.id, c.box)}, shortTS(c.start)) : shortTS(c.start)),
    boxes ? h("td", {class: "box"}, c.box || "—") : "",
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
      h("thead", {}, h("tr", {}, [`Start (${zoneLabel()})`, ...(boxes ? ["Box"] : []), "Calling", "Called", "Partner", "Link", "OPC → DPC", "CIC", "Outcome", "Messages", "Alerts"].map((t) => h("th", {class: t === "CIC" ? "num" : ""}, t)))),
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
  const names = m.names || {};
  // A coded value shows its Q.763/Q.850 name beside the code.
  const value = (k, v) => names[k] ? [String(v), " ", h("span", {class: "vname"}, names[k])] : String(v);
  return h("div", {id: "params"},
    h("h3", {}, `${m.type} — every decoded parameter`),
    h("table", {class: "param-table"}, h("tbody", {}, rows.map(([k, v]) => h("tr", {"data-param": k}, h("td", {}, k), h("td", {}, value(k, v)))))),
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
  const box = hashParams().get("box");
  let c;
  try {
    c = await api("/api/calls/" + encodeURIComponent(id) + (box ? "?" + query({box}) : ""));
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
      me && me.role !== "viewer" && !me.central ? h("a", {id: "call-pcap", href: "/api/pcap?" + query({number: c.calling || c.called, from: c.start, to: c.ladder.length ? new Date(Date.parse(c.ladder[c.ladder.length - 1].ts) + 1000).toISOString() : ""}), download: ""}, h("button", {type: "button", class: "secondary"}, "⤓ pcap")) : ""),
    kv([["Box", c.box], [`Start (${zoneLabel()})`, shortTS(c.start)], ["Partner", c.partner || "—"], ["Direction", c.direction], ["Ingress link", ing.link || c.link], ["Protocol", (ing.protocol || "").toUpperCase()],
      ["Peer → local", ing.peer ? `${ing.peer} → ${ing.local}` : ""], ["Routing context", ing.rc], ["Capture source", ing.source],
      ["OPC → DPC", `${c.opc_pc || c.opc} → ${c.dpc_pc || c.dpc}`], ["CIC", c.cic], ["Cause", c.cause ? `${c.cause} (${c.cause_name || "?"})` : ""], ["Analysis call id", c.call_id],
      ["Origin country", c.origin_country]]));
  const alerts = c.alerts.length ? h("div", {class: "panel", id: "call-alerts"}, h("h3", {}, "Alerts"),
    h("table", {}, h("tbody", {}, c.alerts.map((a) => h("tr", {}, h("td", {}, h("span", {class: "tag " + (a.severity === "critical" ? "critical" : "rule")}, a.rule)),
      h("td", {class: "mono small"}, shortTS(a.ts)), h("td", {}, a.detail || "")))))) : "";
  $view.replaceChildren(summary, alerts, pathPanel(c), transitPanel(c), h("div", {class: "cols"}, ladderBox, h("div", {class: "panel"}, side)));
  if (c.ladder.length) select(sel);
}

// pathPanel shows the call's legs across monitored gateways, in time order,
// with the hops where the caller ID changed marked.
function pathPanel(c) {
  if (!c.path || !c.path.length) return "";
  const changes = c.path.filter((x) => x.caller_id_changed).length;
  return h("div", {class: "panel", id: "call-path"},
    h("h3", {}, `Path across gateways: ${c.path.length} hops` + (changes ? `, caller ID changed ${changes}×` : ", caller ID unchanged")),
    h("table", {},
      h("thead", {}, h("tr", {}, [`Time (${zoneLabel()})`, "Box", "Direction", "Partner", "Link", "OPC → DPC", "CIC", "Calling as signalled", "Called", ""].map((x) => h("th", {}, x)))),
      h("tbody", {}, c.path.map((x) => h("tr", {class: (x.caller_id_changed ? "changed" : "") + (x.box === c.box && x.call_id === c.call_id ? " this" : ""), "data-box": x.box},
        h("td", {class: "mono small"}, shortTS(x.ts)), h("td", {class: "box"}, x.box), h("td", {}, x.direction), h("td", {}, x.partner || "—"),
        h("td", {class: "mono small"}, x.link || ""), h("td", {class: "mono"}, `${x.opc} → ${x.dpc}`), h("td", {class: "num mono"}, x.cic),
        h("td", {class: "mono"}, x.calling || "—"), h("td", {class: "mono"}, x.called || "—"),
        h("td", {}, x.caller_id_changed ? h("span", {class: "tag critical"}, "caller ID changed") : ""))))));
}

// transitPanel shows the other leg of a call through the gateway and what
// changed between the ingress and the egress leg.
function transitPanel(c) {
  const t = c.transit;
  if (!t) return "";
  const other = t.leg === "ingress" ? "egress" : "ingress";
  return h("div", {class: "panel", id: "call-transit"},
    h("h3", {}, `Transit: this is the ${t.leg} leg`),
    h("p", {}, `The ${other} leg: `, t.other ? h("a", {href: "#/call/" + t.other}, `${t.other_partner || "—"} on ${t.other_link || "—"}`) : `call ${t.other_call_id} (not retained)`),
    t.changes.length ? h("table", {},
      h("thead", {}, h("tr", {}, ["Changed", "Ingress leg", "Egress leg"].map((x) => h("th", {}, x)))),
      h("tbody", {}, t.changes.map((ch) => h("tr", {class: "changed"}, h("td", {}, ch.field.replace("_", " ")),
        h("td", {class: "mono"}, ch.ingress || "—"), h("td", {class: "mono"}, ch.egress || "—")))))
      : h("p", {class: "muted small"}, "Calling number, presentation, generic numbers and redirection unchanged."));
}

// ---------- alerts ----------

async function alertsPage() {
  setNav("alerts");
  const p = hashParams();
  const alertPageSize = Math.min(1000, Math.max(1, parseInt(p.get("limit") || "100", 10) || 100));
  const offset = Math.max(0, parseInt(p.get("offset") || "0", 10) || 0);
  const sev = p.get("severity") || "";
  const go = (extra) => {
    const params = {from: fromInputTime(form.from.value), to: fromInputTime(form.to.value), rule: form.rule.value,
      severity: form.severity.value, partner: form.partner.value, limit: p.get("limit") || ""};
    location.hash = "#/alerts?" + query(Object.assign(params, extra || {}));
  };
  const form = h("form", {class: "panel", id: "alerts-form", onsubmit: (ev) => { ev.preventDefault(); go(); }},
    h("div", {class: "form-grid"},
      h("label", {for: "f-from"}, `From (${zoneLabel()})`, timeField(p, "from", false, NaN)),
      h("label", {for: "f-to"}, `To (${zoneLabel()})`, timeField(p, "to", true, NaN)),
      h("label", {}, "Rule", h("input", {name: "rule", id: "f-rule", value: p.get("rule") || "", placeholder: "any, e.g. cli.missing"})),
      h("label", {}, "Severity", h("select", {name: "severity", id: "f-severity"},
        [["", "any"], ["info", "info and above"], ["warning", "warning and above"], ["critical", "critical"]].map(([v, t]) =>
          h("option", {value: v, selected: v === sev}, t)))),
      h("label", {}, "Partner", h("input", {name: "partner", id: "f-partner", value: p.get("partner") || "", placeholder: "any"}))),
    h("div", {class: "actions"}, h("button", {type: "submit", id: "alerts-button"}, "Filter"),
      h("span", {class: "muted small"}, "Without a range: the last 92 days of data.")));
  const box = h("div", {class: "panel", id: "alerts"}, h("div", {class: "empty"}, "Loading…"));
  $view.replaceChildren(form, box);
  let res;
  try {
    res = await api("/api/alerts?" + query({from: p.get("from"), to: p.get("to"), rule: p.get("rule"), severity: sev,
      partner: p.get("partner"), limit: alertPageSize, offset: offset || ""}));
  } catch (e) { box.replaceChildren(h("div", {class: "error", id: "alerts-error"}, e.message)); return; }
  const pager = h("div", {class: "actions", id: "alerts-pager"},
    offset > 0 ? h("button", {type: "button", class: "secondary", id: "alerts-newer", onclick: () => go({offset: Math.max(0, offset - alertPageSize) || ""})}, "← Newer") : "",
    res.more ? h("button", {type: "button", class: "secondary", id: "alerts-older", onclick: () => go({offset: offset + alertPageSize})}, "Older →") : "");
  if (!res.count) { box.replaceChildren(h("div", {class: "empty"}, "No alerts match."), pager); return; }
  box.replaceChildren(h("h2", {id: "alerts-heading"}, `Alerts ${offset + 1}–${offset + res.count}, newest first` +
    ` (${shortTS(res.from)} — ${shortTS(res.to)} ${zoneLabel()})`), h("table", {},
    h("thead", {}, h("tr", {}, [`Time (${zoneLabel()})`, "Rule", "Severity", "Partner", "Calling", "Called", "Circuit", "Detail", ""].map((t) => h("th", {}, t)))),
    h("tbody", {}, res.alerts.map((it) => {
      const a = it.alert;
      return h("tr", {},
        h("td", {class: "mono small"}, shortTS(a.ts), it.live ? h("span", {class: "tag info"}, "live") : ""),
        h("td", {}, h("a", {href: "#/alerts?" + query({rule: a.rule})}, h("span", {class: "tag " + (a.severity === "critical" ? "critical" : "rule")}, a.rule))),
        h("td", {}, a.severity),
        h("td", {}, a.partner ? h("a", {href: "#/partner/" + encodeURIComponent(a.partner)}, a.partner) : "—",
          a.origin_country ? h("span", {class: "tag info", title: "origin country"}, a.origin_country) : ""),
        h("td", {class: "mono"}, a.calling || ""), h("td", {class: "mono"}, a.called || ""),
        h("td", {class: "mono small"}, `${a.opc}→${a.dpc} / ${a.cic}`),
        h("td", {class: "small"}, a.detail || ""),
        h("td", {}, it.call ? h("a", {href: "#/call/" + it.call}, "call →") : ""));
    }))), pager);
}

// ---------- partners ----------

async function partnersPage() {
  setNav("partners");
  $view.replaceChildren(h("div", {class: "empty"}, "Loading…"));
  let res;
  try { res = await api("/api/partners"); } catch (e) { showError(e); return; }
  const rules = [...new Set(res.partners.flatMap((p) => Object.keys(p.by_rule)))].sort();
  $view.replaceChildren(h("div", {class: "panel", id: "partners"},
    h("h2", {}, "Partner scorecards"), h("p", {class: "muted small"}, `${shortTS(res.from)} — ${shortTS(res.to)} ${zoneLabel()}. Whoever connects a call is accountable for it.`),
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
  for (let i = 0; i < n; i += step) svg.append(s("text", {x: L + i * bw, y: H - 12}, shortTS(series[i].t).slice(5, 13) + "h"));
  return svg;
}

function pct(v) { return v === null || v === undefined ? "—" : (100 * v).toFixed(1); }
function secs(v) { return v === null || v === undefined ? "—" : v.toFixed(1); }

// kpiChartSVG draws hourly ASR and NER (0–100 %) per direction.
function kpiChartSVG(rows) {
  const W = 980, H = 220, L = 46, R = 12, T = 12, B = 34;
  const hours = [...new Set(rows.map((r) => r.hour))].sort();
  const n = Math.max(1, hours.length);
  const x = (i) => L + (W - L - R) * (n === 1 ? 0.5 : i / (n - 1));
  const y = (v) => T + (H - T - B) * (1 - v);
  const svg = s("svg", {viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "hourly ASR and NER"});
  for (let k = 0; k <= 4; k++) svg.append(s("line", {class: "axis", x1: L, x2: W - R, y1: y(k / 4), y2: y(k / 4)}), s("text", {x: L - 6, y: y(k / 4) + 4, "text-anchor": "end"}, `${k * 25}%`));
  for (const dir of ["ingress", "egress"]) {
    for (const [key, cls] of [["asr", "asr"], ["ner", "ner"]]) {
      const pts = rows.filter((r) => r.direction === dir && r[key] !== null).map((r) => `${x(hours.indexOf(r.hour))},${y(r[key])}`);
      if (pts.length) svg.append(s("polyline", {class: `kpi ${cls} ${dir}`, points: pts.join(" ")}, s("title", {}, `${key.toUpperCase()} ${dir}`)));
    }
  }
  const step = Math.max(1, Math.ceil(n / 8));
  for (let i = 0; i < hours.length; i += step) svg.append(s("text", {x: x(i), y: H - 12, "text-anchor": n === 1 ? "middle" : i === 0 ? "start" : "middle"}, shortTS(hours[i]).slice(5, 13) + "h"));
  return svg;
}

// kpiPanel: route quality per link and direction (report --kpi), and the hourly chart.
function kpiPanel(res) {
  const rows = res.kpi || [];
  if (!rows.length) return "";
  return h("div", {class: "panel", id: "route-kpi"},
    h("h3", {}, "Route quality"),
    h("p", {class: "muted small"}, "ASR (E.411) answered / seizures; NER (E.425) answered, busy, ring no answer or rejected / seizures; ACD mean talk time; PDD IAM to alerting."),
    h("table", {},
      h("thead", {}, h("tr", {}, ["Link", "Direction", "Seizures", "Answered", "ASR %", "NER %", "ACD s", "PDD p50 s", "PDD p95 s", "Release causes"].map((t, i) => h("th", {class: i > 1 && i < 9 ? "num" : ""}, t)))),
      h("tbody", {}, rows.map((r) => h("tr", {},
        h("td", {class: "mono small"}, r.link || "—"), h("td", {}, r.direction),
        h("td", {class: "num"}, r.seizures), h("td", {class: "num"}, r.answered),
        h("td", {class: "num"}, pct(r.asr)), h("td", {class: "num"}, pct(r.ner)), h("td", {class: "num"}, secs(r.acd_s)),
        h("td", {class: "num"}, secs(r.pdd_median_s)), h("td", {class: "num"}, secs(r.pdd_p95_s)),
        h("td", {class: "small"}, (r.causes || []).slice(0, 4).map((c) => `${c.cause} ${c.name}: ${c.calls}`).join("; ")))))),
    h("div", {class: "chart"}, h("h3", {}, "ASR and NER per hour"),
      h("div", {class: "legend small muted"}, h("span", {}, h("i", {class: "lg-asr"}), "ASR"), h("span", {}, h("i", {class: "lg-ner"}), "NER"), h("span", {}, "solid ingress, dashed egress")),
      kpiChartSVG(res.kpi_hourly || [])));
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
      h("p", {class: "muted small"}, `${shortTS(res.from)} — ${shortTS(res.to)} ${zoneLabel()}`),
      h("dl", {class: "kv"}, h("dt", {}, "Calls"), h("dd", {}, p.calls), h("dt", {}, "Flagged calls"), h("dd", {}, `${p.flagged} (${p.calls ? (100 * p.flagged / p.calls).toFixed(1) : 0}%)`),
        h("dt", {}, "Alerts"), h("dd", {}, p.alerts), h("dt", {}, "Links"), h("dd", {}, p.links.join(", ") || "—"))),
    h("div", {class: "cols"},
      h("div", {class: "panel chart"}, h("h3", {}, "Per hour"),
        h("div", {class: "legend small muted"}, h("span", {}, h("i", {class: "lg-calls"}), "calls"), h("span", {}, h("i", {class: "lg-flag"}), "flagged"), h("span", {}, h("i", {class: "lg-alerts"}), "alerts")),
        chartSVG(res.series)),
      h("div", {class: "panel"}, h("h3", {}, "Flagged by rule"),
        rules.length ? h("table", {}, h("tbody", {}, rules.map(([r, n]) => h("tr", {},
          h("td", {}, h("a", {href: "#/search?" + query({rule: r, partner: p.partner})}, h("span", {class: "tag rule"}, r))),
          h("td", {class: "num"}, n))))) : h("div", {class: "empty"}, "No alerts."))),
    kpiPanel(res));
}

// ---------- audit ----------

async function auditPage() {
  setNav("audit");
  let res;
  try { res = await api("/api/audit?limit=500"); } catch (e) { showError(e); return; }
  $view.replaceChildren(h("div", {class: "panel", id: "audit"}, h("h2", {}, "Audit log (newest first)"),
    h("table", {}, h("thead", {}, h("tr", {}, [`When (${zoneLabel()})`, "User", "Role", "Endpoint", "What was searched", "Results", "Status", "From"].map((t) => h("th", {}, t)))),
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
  // Over the central store the alert feed and partner pages (a box's own
  // store) are not served.
  for (const n of ["alerts", "partners"]) document.querySelector(`[data-nav=${n}]`).hidden = !!me.central;
  const showSpan = () => {
    document.getElementById("span").textContent = me.oldest
      ? (me.central ? "Central store, every box · " : "") + `Retained signalling: ${shortTS(me.oldest)} — ${shortTS(me.newest)} ${zoneLabel()}` + (me.role === "viewer" ? " · numbers masked for your role" : "")
      : "The store holds no signalling yet.";
    const tz = document.getElementById("tz-toggle");
    tz.hidden = !me.display_zone || me.display_zone === "UTC";
    tz.textContent = zone() === "UTC" ? `Show ${me.display_zone}` : "Show UTC";
  };
  showSpan();
  document.getElementById("tz-toggle").addEventListener("click", () => {
    localStorage.setItem("gw-zone", zone() === "UTC" ? "display" : "UTC");
    showSpan();
    route();
  });
  document.getElementById("logout").addEventListener("click", async () => {
    await fetch("/api/logout", {method: "POST", credentials: "same-origin"});
    location.href = "/login";
  });
  window.addEventListener("hashchange", route);
  document.body.dataset.ready = "1";
  await route();
}

main();
