// Small SVG charts for the dashboard: bars and a line, drawn into an <svg viewBox="0 0 W H">.
//
// Exports:
//   barChart: one bar per value, the largest value labelled.
//   lineChart: points joined by a line, the first and the last value labelled.

const SVG = "http://www.w3.org/2000/svg";
const PAD = 18;

function element(name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function box(svg) {
  const [, , width, height] = svg.getAttribute("viewBox").split(" ").map(Number);
  return { width, height };
}

function empty(svg, note) {
  const { width, height } = box(svg);
  svg.replaceChildren(element("text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, note));
}

export function barChart(svg, values, note = "no data yet") {
  if (!values.length) return empty(svg, note);
  const { width, height } = box(svg);
  const top = Math.max(...values, 1);
  const step = (width - 2 * PAD) / values.length;
  const nodes = values.map((value, i) => {
    const h = ((height - 2 * PAD) * value) / top;
    return element("rect", { x: PAD + i * step + 1, y: height - PAD - h, width: Math.max(step - 2, 1), height: h, fill: "#2f6fb3" });
  });
  nodes.push(element("text", { x: PAD, y: PAD - 4 }, `max ${top}`));
  svg.replaceChildren(...nodes);
}

export function lineChart(svg, xs, ys, note = "no data yet") {
  if (!ys.length) return empty(svg, note);
  const { width, height } = box(svg);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x) => PAD + ((width - 2 * PAD) * (x - x0)) / Math.max(x1 - x0, 1e-9);
  const sy = (y) => height - PAD - ((height - 2 * PAD) * (y - y0)) / Math.max(y1 - y0, 1e-9);
  const points = xs.map((x, i) => `${sx(x).toFixed(1)},${sy(ys[i]).toFixed(1)}`).join(" ");
  const nodes = [element("polyline", { points, fill: "none", stroke: "#7fd37f", "stroke-width": 2 })];
  for (let i = 0; i < xs.length; i += 1) {
    nodes.push(element("circle", { cx: sx(xs[i]), cy: sy(ys[i]), r: 3, fill: "#7fd37f" }));
  }
  nodes.push(element("text", { x: PAD, y: PAD - 4 }, `${ys[0].toFixed(1)} → ${ys[ys.length - 1].toFixed(1)} (max ${y1.toFixed(1)})`));
  svg.replaceChildren(...nodes);
}
