// The territory map: Leaflet (vendored, served from /app/static) inside a Streamlit component.
//
// Polygons are fetched once from the geometry file named in the arguments; every later
// render only restyles what changed (fills, territory borders, labels, selection), so an
// edit never rebuilds the map. Selection happens here, at once, and is sent to Python as
// {selected: [unit ids], nonce, seq}; Python echoes nonce and seq back, and a selection
// coming from Python is adopted only once it has seen this map's latest one.
"use strict";

const send = (type, data) => window.parent.postMessage(Object.assign({isStreamlitMessage: true, type}, data), "*");
const TOOLBAR_PX = 40;

const view = {
  map: null, geo: null, url: null, polygons: [], grid: null,
  fills: [], palette: [], territoryOf: [], territories: [], labels: [], info: [],
  selected: new Set(), locked: [], detached: [], moved: [],
  nonce: Math.random().toString(36).slice(2), seq: 0,
  mode: "click", focusToken: null, focus: -1, renders: 0,
  layers: {}, drawing: null, lastShape: null,
};
window.terrainMap = view;  // for the browser tests and benchmarks

// ---- geometry -------------------------------------------------------------------------------------

function ringLatLngs(flat) {
  const out = new Array(flat.length / 2);
  for (let i = 0; i < flat.length; i += 2) out[i / 2] = [flat[i], flat[i + 1]];
  return out;
}

function unitBounds(shape) {
  let s = 90, w = 180, n = -90, e = -180;
  for (const part of shape) {
    const ring = part[0];
    for (let i = 0; i < ring.length; i += 2) {
      if (ring[i] < s) s = ring[i];
      if (ring[i] > n) n = ring[i];
      if (ring[i + 1] < w) w = ring[i + 1];
      if (ring[i + 1] > e) e = ring[i + 1];
    }
  }
  return [s, w, n, e];
}

// A uniform grid over the map's bounds: each cell lists the units whose box touches it.
function buildGrid(geo) {
  const [[s, w], [n, e]] = geo.bounds;
  const size = Math.max(8, Math.round(Math.sqrt(geo.ids.length) * 1.5));
  const cells = Array.from({length: size * size}, () => []);
  const dy = (n - s) / size || 1, dx = (e - w) / size || 1;
  const boxes = geo.shapes.map(unitBounds);
  const clamp = (v) => Math.min(size - 1, Math.max(0, v));
  boxes.forEach((b, u) => {
    for (let r = clamp(Math.floor((b[0] - s) / dy)); r <= clamp(Math.floor((b[2] - s) / dy)); r++)
      for (let c = clamp(Math.floor((b[1] - w) / dx)); c <= clamp(Math.floor((b[3] - w) / dx)); c++)
        cells[r * size + c].push(u);
  });
  return {s, w, dy, dx, size, cells, boxes};
}

function insideRings(lat, lng, rings) {  // even-odd rule over flat [lat, lng, ...] rings
  let inside = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 2; i < ring.length; j = i, i += 2) {
      const yi = ring[i], xi = ring[i + 1], yj = ring[j], xj = ring[j + 1];
      if ((yi > lat) !== (yj > lat) && lng < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

function unitAt(latlng) {
  const g = view.grid;
  if (!g) return -1;
  const r = Math.floor((latlng.lat - g.s) / g.dy), c = Math.floor((latlng.lng - g.w) / g.dx);
  if (r < 0 || c < 0 || r >= g.size || c >= g.size) return -1;
  for (const u of g.cells[r * g.size + c]) {
    const b = g.boxes[u];
    if (latlng.lat < b[0] || latlng.lat > b[2] || latlng.lng < b[1] || latlng.lng > b[3]) continue;
    for (const part of view.geo.shapes[u]) if (insideRings(latlng.lat, latlng.lng, part)) return u;
  }
  return -1;
}

function unitsInside(latlngs) {  // units whose inside point lies in the polygon latlngs
  const ring = [];
  let s = 90, w = 180, n = -90, e = -180;
  for (const p of latlngs) {
    ring.push(p.lat, p.lng);
    s = Math.min(s, p.lat); n = Math.max(n, p.lat); w = Math.min(w, p.lng); e = Math.max(e, p.lng);
  }
  const found = [], pts = view.geo.points;
  for (let u = 0; u < view.geo.ids.length; u++) {
    const lat = pts[2 * u], lng = pts[2 * u + 1];
    if (lat < s || lat > n || lng < w || lng > e) continue;
    if (insideRings(lat, lng, [ring])) found.push(u);
  }
  return found;
}

// ---- drawing ----------------------------------------------------------------------------------------

function baseStyle(u) {
  const f = view.fills[u];
  return {fillColor: f >= 0 ? view.palette[f] : "#cccccc", fillOpacity: 0.78, color: "#ffffff", weight: 0.4};
}

function createMap(geo, height) {
  const el = document.getElementById("map");
  el.style.height = `${height}px`;
  const map = L.map(el, {preferCanvas: true, zoomSnap: 0.1, boxZoom: false, attributionControl: false});
  const renderer = L.canvas({padding: 0.3, tolerance: 0});
  map.fitBounds(geo.bounds);
  L.control.scale().addTo(map);
  view.polygons = geo.shapes.map((shape) =>
    L.polygon(shape.map((part) => part.map(ringLatLngs)), {renderer, interactive: false, ...baseStyle(-1)}));
  const units = L.layerGroup(view.polygons).addTo(map);
  const overlay = (name) => (view.layers[name] = L.layerGroup().addTo(map));
  overlay("moved"); overlay("locked"); overlay("detached"); overlay("borders");
  overlay("focus"); overlay("selected"); overlay("homes"); overlay("labels");
  view.layers.units = units;
  view.renderer = renderer;
  view.map = map;
  view.grid = buildGrid(geo);
  const tip = L.tooltip({sticky: false, direction: "top", offset: [0, -8], className: "unit-tip"});
  let last = -2;
  map.on("mousemove", (ev) => {
    if (view.drawing) return moveDrawing(ev);
    const u = unitAt(ev.latlng);
    if (u !== last) {
      last = u;
      if (u < 0) { map.closeTooltip(tip); return; }
      tip.setContent(tooltipHtml(u));
    }
    if (u >= 0) { tip.setLatLng(ev.latlng); if (!map.hasLayer(tip)) tip.addTo(map); }
  });
  map.on("mouseout", () => { last = -2; map.closeTooltip(tip); });
  map.on("click", onClick);
  map.on("mousedown", startDrawing);
  map.on("mouseup", endDrawing);
  map.on("dblclick", finishPolygon);
  map.on("zoomend moveend", placeLabels);
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") cancelDrawing(); });
  // The frame gets its size after the map is made (and again when the page lays out):
  // measure again and fit, until the user zooms or pans.
  let touched = false;
  for (const type of ["mousedown", "wheel", "touchstart", "keydown"]) el.addEventListener(type, () => { touched = true; });
  new ResizeObserver(() => {
    map.invalidateSize();
    if (!touched) map.fitBounds(geo.bounds);
  }).observe(el);
}

const escapeHtml = (s) => String(s).replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));

function tooltipHtml(u) {
  const t = view.territoryOf[u];
  const lines = [`<b>${escapeHtml(view.geo.names[u])}</b>`];
  if (view.geo.details && view.geo.details[u]) lines.push(escapeHtml(view.geo.details[u]));
  if (t >= 0) {
    lines.push(`Territory <b>${escapeHtml(view.labels[t] || view.territories[t])}</b>`);
    if (view.info[t]) lines.push(escapeHtml(view.info[t]));
  }
  if (view.selected.has(u)) lines.push("<i>selected</i>");
  return lines.join("<br>");
}

function outline(name, units, style) {
  const group = view.layers[name];
  group.clearLayers();
  for (const u of units) {
    const shape = view.geo.shapes[u];
    if (shape) group.addLayer(L.polygon(shape.map((part) => part.map(ringLatLngs)),
                                         {renderer: view.renderer, interactive: false, ...style}));
  }
}

function drawBorders() {
  const lines = [], focusLines = [];
  for (const [a, b, parts] of view.geo.borders) {
    const ta = view.territoryOf[a], tb = view.territoryOf[b];
    if (ta === tb) continue;
    for (const flat of parts) {
      const latlngs = ringLatLngs(flat);
      lines.push(latlngs);
      if (view.focus >= 0 && (ta === view.focus || tb === view.focus)) focusLines.push(latlngs);
    }
  }
  view.layers.borders.clearLayers();
  view.layers.borders.addLayer(L.polyline(lines, {renderer: view.renderer, interactive: false, color: "#222", weight: 1.6}));
  view.layers.focus.clearLayers();
  if (focusLines.length)
    view.layers.focus.addLayer(L.polyline(focusLines, {renderer: view.renderer, interactive: false, color: "#000", weight: 4.5}));
}

// Each territory's label sits on its member unit nearest the members' area-weighted centre.
function drawLabels() {
  const group = view.layers.labels;
  group.clearLayers();
  const n = view.territories.length, pts = view.geo.points, areas = view.geo.areas;
  const sum = Array.from({length: n}, () => [0, 0, 0]);
  view.territoryOf.forEach((t, u) => {
    if (t < 0) return;
    const a = areas[u] || 1e-9;
    sum[t][0] += pts[2 * u] * a; sum[t][1] += pts[2 * u + 1] * a; sum[t][2] += a;
  });
  const best = new Array(n).fill(-1), bestD = new Array(n).fill(Infinity);
  view.territoryOf.forEach((t, u) => {
    if (t < 0 || !sum[t][2]) return;
    const clat = sum[t][0] / sum[t][2], clng = sum[t][1] / sum[t][2];
    const k = Math.cos((clat * Math.PI) / 180);
    const d = (pts[2 * u] - clat) ** 2 + ((pts[2 * u + 1] - clng) * k) ** 2;
    if (d < bestD[t]) { bestD[t] = d; best[t] = u; }
  });
  // Bigger territories first: where labels would overlap, the bigger territory's label is shown.
  const order = best.map((u, t) => t).filter((t) => best[t] >= 0).sort((a, b) => sum[b][2] - sum[a][2]);
  if (view.focus >= 0 && best[view.focus] >= 0) order.unshift(view.focus);
  view.labelOrder = [];
  for (const t of order) {
    const u = best[t];
    const text = view.labels[t] || view.territories[t];
    const cls = t === view.focus ? "territory-label focused" : "territory-label";
    const icon = L.divIcon({className: "label-anchor", html: `<span class="${cls}">${escapeHtml(text)}</span>`, iconSize: [0, 0]});
    const marker = L.marker([pts[2 * u], pts[2 * u + 1]], {icon, interactive: false, keyboard: false});
    group.addLayer(marker);
    view.labelOrder.push(marker);
  }
  placeLabels();
}

// Hide a label that would overlap one already shown (labels come biggest territory first).
function placeLabels() {
  const shown = [];
  for (const marker of view.labelOrder || []) {
    const el = marker.getElement() && marker.getElement().firstChild;
    if (!el) continue;
    el.style.visibility = "visible";
    const r = el.getBoundingClientRect();
    const clash = shown.some((o) => r.left < o.right + 2 && r.right + 2 > o.left && r.top < o.bottom && r.bottom > o.top);
    if (clash) el.style.visibility = "hidden"; else shown.push(r);
  }
}

function drawSelection() {
  outline("selected", view.selected, {color: "#000", weight: 2.5, fillColor: "#ffffff", fillOpacity: 0.55});
  // A dot on each selected unit: a small county stays visible at national zoom.
  const pts = view.geo.points;
  for (const u of view.selected)
    view.layers.selected.addLayer(L.circleMarker([pts[2 * u], pts[2 * u + 1]],
      {renderer: view.renderer, interactive: false, radius: 3.5, color: "#000", weight: 1.5, fillColor: "#ffeb3b", fillOpacity: 1}));
  const n = view.selected.size;
  document.getElementById("count").textContent = n ? `${n.toLocaleString("en-US")} unit(s) selected` : "";
}

function drawHomes(homes) {
  const group = view.layers.homes;
  group.clearLayers();
  for (const [lat, lng, text] of homes || [])
    group.addLayer(L.circleMarker([lat, lng], {renderer: view.renderer, radius: 3.5, color: "#b30000", weight: 1,
      fillColor: "#b30000", fillOpacity: 1, interactive: false}).bindTooltip(text));
}

// ---- selection tools ----------------------------------------------------------------------------------

function publish(units, add) {
  if (add) for (const u of units) view.selected.add(u);
  else view.selected = new Set(units);
  drawSelection();
  view.seq += 1;
  const selected = [...view.selected].sort((a, b) => a - b).map((u) => view.geo.ids[u]);
  send("streamlit:setComponentValue", {value: {selected, nonce: view.nonce, seq: view.seq}, dataType: "json"});
}

function onClick(ev) {
  if (!view.selectable) return;
  if (view.mode === "polygon") return addPolygonPoint(ev);
  if (view.mode !== "click") return;
  const u = unitAt(ev.latlng);
  view.lastShape = [[ev.latlng.lat, ev.latlng.lng]];
  if (u < 0) return;
  const next = new Set(view.selected);
  if (next.has(u)) next.delete(u); else next.add(u);
  publish([...next], false);
  // Input-to-drawn latency (the event's timestamp shares performance.now()'s origin).
  document.body.dataset.selectMs = String(Math.round(performance.now() - ev.originalEvent.timeStamp));
}

function startDrawing(ev) {
  if (!view.selectable) return;
  if (view.mode !== "rectangle" && view.mode !== "lasso") return;
  const style = {renderer: view.renderer, interactive: false, color: "#111", weight: 2, dashArray: "5 4", fillOpacity: 0.08};
  const shape = view.mode === "rectangle" ? L.rectangle([ev.latlng, ev.latlng], style) : L.polygon([ev.latlng], style);
  view.drawing = {kind: view.mode, start: ev.latlng, points: [ev.latlng], shape: shape.addTo(view.map)};
}

function moveDrawing(ev) {
  const d = view.drawing;
  if (d.kind === "rectangle") d.shape.setBounds([d.start, ev.latlng]);
  else if (d.kind === "lasso") { d.points.push(ev.latlng); d.shape.setLatLngs(d.points); }
  else if (d.kind === "polygon") d.shape.setLatLngs([...d.points, ev.latlng]);
}

function endDrawing(ev) {
  const d = view.drawing;
  if (!d || d.kind === "polygon") return;
  view.drawing = null;
  view.map.removeLayer(d.shape);
  let ring;
  if (d.kind === "rectangle") {
    const b = L.latLngBounds(d.start, ev.latlng);
    ring = [b.getSouthWest(), b.getNorthWest(), b.getNorthEast(), b.getSouthEast()];
  } else ring = d.points.concat([ev.latlng]);
  view.lastShape = ring.map((p) => [p.lat, p.lng]);
  if (ring.length >= 3) publish(unitsInside(ring), ev.originalEvent.shiftKey);
}

function addPolygonPoint(ev) {
  const style = {renderer: view.renderer, interactive: false, color: "#111", weight: 2, dashArray: "5 4", fillOpacity: 0.08};
  if (!view.drawing) view.drawing = {kind: "polygon", points: [], shape: L.polygon([], style).addTo(view.map)};
  view.drawing.points.push(ev.latlng);
  view.drawing.add = ev.originalEvent.shiftKey;
  view.drawing.shape.setLatLngs(view.drawing.points);
}

function finishPolygon() {
  const d = view.drawing;
  if (!d || d.kind !== "polygon") return;
  view.drawing = null;
  view.map.removeLayer(d.shape);
  // A double-click also fired two clicks on the last corner: drop the duplicate.
  const pts = d.points.filter((p, i) => i === 0 || !p.equals(d.points[i - 1]));
  view.lastShape = pts.map((p) => [p.lat, p.lng]);
  if (pts.length >= 3) publish(unitsInside(pts), d.add);
}

function cancelDrawing() {
  if (view.drawing) { view.map.removeLayer(view.drawing.shape); view.drawing = null; }
}

function setMode(mode) {
  cancelDrawing();
  view.mode = mode;
  document.querySelectorAll("#toolbar button[data-mode]").forEach((b) => b.classList.toggle("active", b.dataset.mode === mode));
  const map = view.map;
  if (!map) return;
  if (mode === "rectangle" || mode === "lasso") map.dragging.disable(); else map.dragging.enable();
  if (mode === "polygon") map.doubleClickZoom.disable(); else map.doubleClickZoom.enable();
  document.getElementById("map").classList.toggle("drawing", mode !== "click");
}

// ---- find a unit by name: the list offers the first matches; picking one selects it and zooms to it ----

function unitText(u) {
  const id = view.geo.ids[u], name = view.geo.names[u];
  return name === id ? id : `${name} (${id})`;
}

function offerMatches(text) {
  const list = document.getElementById("matches");
  list.replaceChildren();
  const needle = text.trim().toLowerCase();
  if (!view.geo || needle.length < 2) return;
  for (let u = 0, found = 0; u < view.geo.ids.length && found < 20; u++) {
    if (!unitText(u).toLowerCase().includes(needle)) continue;
    const option = document.createElement("option");
    option.value = unitText(u);
    list.appendChild(option);
    found++;
  }
}

function pickMatch(text) {
  if (!view.geo) return false;
  const u = view.geo.ids.findIndex((id, i) => unitText(i) === text);
  if (u < 0) return false;
  const b = view.grid.boxes[u];
  view.map.fitBounds([[b[0], b[1]], [b[2], b[3]]], {padding: [80, 80], maxZoom: 9});
  publish([...view.selected, u], false);
  return true;
}

const find = document.getElementById("find");
find.addEventListener("input", () => { if (!pickMatch(find.value)) offerMatches(find.value); else find.value = ""; });

document.querySelectorAll("#toolbar button[data-mode]").forEach((b) => b.addEventListener("click", () => setMode(b.dataset.mode)));
document.getElementById("clear").addEventListener("click", () => publish([], false));

// ---- arguments from Python ------------------------------------------------------------------------

const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

function apply(args) {
  view.selectable = args.selectable;
  const fillsChanged = !same(view.fills, args.fills) || !same(view.palette, args.palette);
  const oldFills = view.fills, oldPalette = view.palette;
  const territoriesChanged = !same(view.territoryOf, args.territory_of) || !same(view.territories, args.territories);
  const labelsChanged = territoriesChanged || !same(view.labels, args.labels) || view.focus !== args.focus;
  view.fills = args.fills; view.palette = args.palette;
  view.territoryOf = args.territory_of; view.territories = args.territories;
  view.labels = args.labels; view.info = args.info;
  if (fillsChanged) {
    for (let u = 0; u < view.polygons.length; u++) {
      const before = oldFills[u] >= 0 ? oldPalette[oldFills[u]] : undefined;
      const after = view.fills[u] >= 0 ? view.palette[view.fills[u]] : "#cccccc";
      if (before !== after) view.polygons[u].setStyle(baseStyle(u));
    }
  }
  const focusChanged = view.focus !== args.focus;
  view.focus = args.focus;
  if (territoriesChanged || focusChanged) drawBorders();
  if (labelsChanged) drawLabels();
  if (args.focus_token !== view.focusToken) {
    view.focusToken = args.focus_token;
    if (args.focus >= 0) {
      const members = [];
      view.territoryOf.forEach((t, u) => { if (t === args.focus) members.push(u); });
      if (members.length) {
        const b = L.latLngBounds(members.map((u) => L.latLngBounds(
          [view.grid.boxes[u][0], view.grid.boxes[u][1]], [view.grid.boxes[u][2], view.grid.boxes[u][3]])));
        view.map.fitBounds(b, {padding: [30, 30], maxZoom: 9});
      }
    }
  }
  if (!same(view.locked, args.locked)) { view.locked = args.locked; outline("locked", args.locked, {color: "#1f3b73", weight: 2, dashArray: "4 3", fill: false}); }
  if (!same(view.detached, args.detached)) { view.detached = args.detached; outline("detached", args.detached, {color: "#d7191c", weight: 3, fillColor: "#d7191c", fillOpacity: 0.25}); }
  if (!same(view.moved, args.moved)) { view.moved = args.moved; outline("moved", args.moved, {color: "#c51b7d", weight: 2.2, fillColor: "#c51b7d", fillOpacity: 0.35}); }
  // Python's selection wins once it has seen this map's latest selection (or never heard from this map).
  if (args.selection_nonce !== view.nonce || args.selection_seq >= view.seq) {
    const incoming = new Set(args.selected);
    if (incoming.size !== view.selected.size || [...incoming].some((u) => !view.selected.has(u))) {
      view.selected = incoming;
      drawSelection();
    }
  }
  drawHomes(args.homes);
  view.renders += 1;
  document.body.dataset.renders = String(view.renders);
}

async function render(args) {
  const height = args.height || 600;
  if (args.geometry_url !== view.url) {
    view.url = args.geometry_url;
    document.getElementById("toolbar").style.display = args.selectable ? "flex" : "none";
    send("streamlit:setFrameHeight", {height: height + (args.selectable ? TOOLBAR_PX : 4)});
    const status = document.getElementById("status");
    try {
      const response = await fetch(args.geometry_url);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      view.geo = await response.json();
    } catch (err) {
      status.textContent = `The map's polygons could not be loaded (${err.message}).`;
      return;
    }
    if (view.map) view.map.remove();
    view.fills = []; view.palette = []; view.territoryOf = []; view.territories = [];
    view.locked = []; view.detached = []; view.moved = []; view.selected = new Set();
    createMap(view.geo, height);
    setMode(view.mode);
    status.textContent = "";
  }
  const started = performance.now();
  document.body.dataset.renderAt = String(Date.now());
  apply(args);
  document.body.dataset.applyMs = String(Math.round(performance.now() - started));
}

let busy = Promise.resolve();
window.addEventListener("message", (event) => {
  if (!event.data || event.data.type !== "streamlit:render") return;
  const args = event.data.args;
  busy = busy.then(() => render(args)).catch((err) => {
    document.getElementById("status").textContent = `Map error: ${err.message}`;
  });
});
send("streamlit:componentReady", {apiVersion: 1});
