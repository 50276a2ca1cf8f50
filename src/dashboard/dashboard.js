// Usage dashboard: every figure comes from the API with the user's token.
"use strict";

const SERIES = [
  ["participants", "Pupils", "#2271b1"],
  ["snapshots", "Assessments", "#d63638"],
  ["programs", "Programs", "#00a32a"],
];
const SMALL = 5;
const TOKEN_KEY = "wellbeing-token";
const state = { report: null };

function token() { return sessionStorage.getItem(TOKEN_KEY); }

function shown(value) {
  // Counts from 1 to 4 could point to a child in a small school.
  if (typeof value !== "number") { return value; }
  return value > 0 && value < SMALL ? "<5" : String(value);
}

function plotted(value) { return value > 0 && value < SMALL ? 0 : value; }

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: "Bearer " + token() } });
  if (response.status === 401) { throw new Error("That token was not accepted. Check it and try again."); }
  if (response.status === 403) { throw new Error("This token may not see usage figures."); }
  if (!response.ok) { throw new Error("The service could not give the figures (" + response.status + ")."); }
  return response.json();
}

function element(tag, attributes, text) {
  const node = document.createElementNS(
    tag === "svg" || tag === "rect" || tag === "text" || tag === "line" || tag === "g" || tag === "title"
      ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml", tag);
  for (const [name, value] of Object.entries(attributes || {})) { node.setAttribute(name, value); }
  if (text !== undefined) { node.textContent = text; }
  return node;
}

function barChart(container, rows, labelKey) {
  container.replaceChildren();
  const width = 760, rowHeight = 18, groupGap = 10, left = 170;
  const height = Math.max(40, rows.length * (SERIES.length * rowHeight + groupGap) + 30);
  const max = Math.max(1, ...rows.flatMap(r => SERIES.map(([k]) => plotted(r[k] || 0))));
  const svg = element("svg", { viewBox: `0 0 ${width} ${height}`, "data-rows": rows.length });
  let y = 10;
  for (const row of rows) {
    svg.appendChild(element("text", { x: 0, y: y + rowHeight, "font-size": 13 }, row[labelKey]));
    for (const [key, name, colour] of SERIES) {
      const value = row[key] || 0;
      const length = (width - left - 60) * plotted(value) / max;
      const bar = element("rect", { x: left, y, width: Math.max(length, 0), height: rowHeight - 4,
        fill: colour, "data-series": key, "data-value": shown(value) });
      bar.appendChild(element("title", {}, `${row[labelKey]}: ${name} ${shown(value)}`));
      svg.appendChild(bar);
      svg.appendChild(element("text", { x: left + length + 4, y: y + rowHeight - 6, "font-size": 11 }, shown(value)));
      y += rowHeight;
    }
    y += groupGap;
  }
  const legend = element("g", { class: "legend" });
  SERIES.forEach(([, name, colour], index) => {
    legend.appendChild(element("rect", { x: left + index * 130, y: height - 16, width: 12, height: 12, fill: colour }));
    legend.appendChild(element("text", { x: left + index * 130 + 16, y: height - 6 }, name));
  });
  svg.appendChild(legend);
  container.appendChild(svg);
}

function fillTable(table, rows, labelKey, labelTitle) {
  const caption = table.querySelector("caption");
  table.replaceChildren(caption);
  const head = element("thead");
  const headRow = element("tr");
  for (const title of [labelTitle, ...SERIES.map(([, name]) => name)]) {
    headRow.appendChild(element("th", { scope: "col" }, title));
  }
  head.appendChild(headRow);
  const body = element("tbody");
  for (const row of rows) {
    const line = element("tr");
    line.appendChild(element("th", { scope: "row" }, row[labelKey]));
    for (const [key] of SERIES) { line.appendChild(element("td", { "data-series": key }, shown(row[key] || 0))); }
    body.appendChild(line);
  }
  table.append(head, body);
}

function renderTotals(report) {
  const totals = document.getElementById("totals");
  totals.replaceChildren();
  const figures = [
    ["Schools", report.teams], ["Staff", report.users], ["Pupils", report.participants],
    ["Assessments", report.snapshots.total],
    ["Universal", report.snapshots.by_kind.universal || 0],
    ["Comprehensive", report.snapshots.by_kind.comprehensive || 0],
    ["Programs", report.programs.total],
  ];
  for (const [name, value] of figures) {
    if (value === null || value === undefined) { continue; }
    const item = element("div", { "data-figure": name });
    item.append(element("dt", {}, name), element("dd", {}, shown(value)));
    totals.appendChild(item);
  }
}

function fillOptions(select, values, keep) {
  const first = select.querySelector("option");
  select.replaceChildren(first);
  for (const [value, label] of values) { select.appendChild(element("option", { value }, label)); }
  select.value = keep;
}

async function refresh() {
  const period = document.getElementById("period").value;
  const la = document.getElementById("la").value;
  const team = document.getElementById("team").value;
  const query = new URLSearchParams();
  if (la) { query.set("la", la); }
  if (team) { query.set("team", team); }
  const report = await api("/stats" + (query.toString() ? "?" + query : ""));
  state.report = report;
  renderTotals(report);
  const periods = report.by_period[period];
  barChart(document.getElementById("time-chart"), periods, "period");
  fillTable(document.getElementById("time-table"), periods, "period", "Period");
  barChart(document.getElementById("la-chart"), report.by_la, "la_code");
  fillTable(document.getElementById("la-table"), report.by_la, "la_code", "Local authority");
  const teams = report.by_team.map(row => ({ ...row, label: row.name || row.team_id.slice(0, 8) }));
  barChart(document.getElementById("team-chart"), teams, "label");
  fillTable(document.getElementById("team-table"), teams, "label", "School");
  if (!la && !team) {
    fillOptions(document.getElementById("la"), report.by_la.map(r => [r.la_code, r.la_code]), la);
    fillOptions(document.getElementById("team"), teams.map(r => [r.team_id, r.label]), team);
  }
}

async function showExports() {
  const section = document.getElementById("exports");
  const list = document.getElementById("export-links");
  list.replaceChildren();
  let partners = [];
  try { partners = (await api("/exports")).partners || []; } catch (error) { partners = []; }
  for (const partner of partners) {
    for (const format of ["csv", "json"]) {
      const link = element("a", { href: "#", "data-partner": partner, "data-format": format },
        `${partner} (${format.toUpperCase()})`);
      link.addEventListener("click", event => { event.preventDefault(); download(partner, format); });
      const item = element("li");
      item.appendChild(link);
      list.appendChild(item);
    }
  }
  section.hidden = partners.length === 0;
}

async function download(partner, format) {
  const response = await fetch(`/exports/${partner}?format=${format}`,
    { headers: { Authorization: "Bearer " + token() } });
  if (!response.ok) { say("That export could not be downloaded (" + response.status + ")."); return; }
  const blob = await response.blob();
  const link = element("a", { href: URL.createObjectURL(blob), download: `${partner}.${format}` });
  document.body.appendChild(link);
  link.click();
  link.remove();
}

function say(text) { document.getElementById("message").textContent = text; }

async function start() {
  if (!token()) { return; }
  try {
    await refresh();
    say("");
    document.getElementById("sign-in").hidden = true;
    document.getElementById("figures").hidden = false;
    await showExports();
  } catch (error) {
    sessionStorage.removeItem(TOKEN_KEY);
    document.getElementById("sign-in").hidden = false;
    document.getElementById("figures").hidden = true;
    say(error.message);
  }
}

document.getElementById("token-form").addEventListener("submit", event => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, document.getElementById("token").value.trim());
  document.getElementById("token").value = "";
  start();
});
for (const id of ["period", "la", "team"]) {
  document.getElementById(id).addEventListener("change", () => refresh().catch(error => say(error.message)));
}
document.getElementById("sign-out").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  location.reload();
});
start();
