// The app's plumbing: the JSON API, forms built from the request field
// tables (GET /api/commands), and charts that export PNG, SVG and CSV.
// No model logic here: every number shown is a field of a command's --json.
import * as echarts from "echarts";

export interface Field {
  key: string;
  type: string;  // integer, "integer or max", number, text, choice, flag, list
  help: string;
  default: string;
  choices: string[];
  required: boolean;
  unit: string;
  min?: number;
  max?: number;
}
export interface Command {
  name: string;
  summary: string;
  fields: Field[];
}

export class ApiError extends Error {
  constructor(message: string, public key: string | undefined, public status: number) {
    super(message);
  }
}

async function reply(r: Response): Promise<any> {
  const text = await r.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = { error: text };
  }
  if (!r.ok) throw new ApiError(body.error ?? `HTTP ${r.status}`, body.key, r.status);
  return body;
}

export async function get(path: string): Promise<any> {
  return reply(await fetch(path));
}

export async function run(command: string, request: Record<string, unknown>): Promise<any> {
  return reply(await fetch(`/api/${command}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(request),
  }));
}

// The library's CSV of the same request (?form=csv).
export async function runCsv(command: string, request: Record<string, unknown>): Promise<string> {
  const r = await fetch(`/api/${command}?form=csv`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(request),
  });
  if (!r.ok) throw new ApiError((await r.json()).error, undefined, r.status);
  return r.text();
}

let commands: Command[] = [];
export async function loadCommands(): Promise<Command[]> {
  if (commands.length === 0) commands = (await get("/api/commands")).commands;
  return commands;
}
export function findCommand(name: string): Command | undefined {
  return commands.find((c) => c.name === name);
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {},
                                                           ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

// A form of every field of `command`, with `initial` values; `onSubmit` gets
// the request (only the fields given, numbers as numbers, flags as booleans).
export function commandForm(command: Command, initial: Record<string, unknown>,
                            onSubmit: (request: Record<string, unknown>) => void): HTMLFormElement {
  const form = el("form", { class: "fields", id: `form-${command.name}` });
  for (const f of command.fields) {
    const title = [f.help, f.default ? `default: ${f.default}` : "", f.unit].filter(Boolean).join(" — ");
    let input: HTMLInputElement | HTMLSelectElement;
    if (f.type === "flag") {
      const box = el("input", { type: "checkbox", name: f.key });
      box.checked = initial[f.key] === true;
      form.append(el("label", { class: "flag", title }, box, f.key));
      continue;
    }
    if (f.type === "choice") {
      const select = el("select", { name: f.key });
      select.append(el("option", { value: "" }, f.default ? `(${f.default})` : ""));
      for (const c of f.choices) select.append(el("option", { value: c }, c));
      input = select;
    } else {
      input = el("input", { type: "text", name: f.key, placeholder: f.default || (f.required ? "required" : "") });
    }
    if (initial[f.key] !== undefined) input.value = String(initial[f.key]);
    form.append(el("label", { title }, `${f.key}${f.required ? " *" : ""}${f.unit ? ` (${f.unit})` : ""}`, input));
  }
  const submit = el("button", { type: "submit", id: `submit-${command.name}` }, "Run");
  form.append(el("div", { class: "actions" }, submit, el("span", { class: "note" }, command.summary)));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    onSubmit(formRequest(command, form));
  });
  return form;
}

export function formRequest(command: Command, form: HTMLFormElement): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of command.fields) {
    const input = form.elements.namedItem(f.key) as HTMLInputElement | null;
    if (input === null) continue;
    if (f.type === "flag") {
      if (input.checked) out[f.key] = true;
      continue;
    }
    const v = input.value.trim();
    if (v === "") continue;
    const numeric = f.type === "integer" || f.type === "number" || f.type === "integer or max";
    out[f.key] = numeric && v !== "max" && !Number.isNaN(Number(v)) ? Number(v) : v;
  }
  return out;
}

// --- Charts ---

export const charts: Record<string, echarts.ECharts> = {};
(window as any).suanliCharts = charts;  // for the browser tests

function download(name: string, href: string) {
  const a = el("a", { href, download: name });
  document.body.append(a);
  a.click();
  a.remove();
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

// The plotted data as CSV: one row per point, a column per series' values.
export function chartCsv(chart: echarts.ECharts): string {
  const option = chart.getOption() as any;
  const rows: string[] = ["series,category,x,y"];
  const categories: unknown[] = option.xAxis?.[0]?.data ?? option.yAxis?.[0]?.data ?? [];
  for (const s of option.series ?? []) {
    (s.data ?? []).forEach((d: any, i: number) => {
      const v = d !== null && typeof d === "object" && !Array.isArray(d) ? d.value : d;
      const [x, y] = Array.isArray(v) ? [v[0], v[1]] : [categories[i] ?? i, v];
      rows.push([s.name, d?.name ?? categories[i] ?? "", x, y].map(csvCell).join(","));
    });
  }
  return rows.join("\n") + "\n";
}

export function chartBox(parent: HTMLElement, id: string, title: string): echarts.ECharts {
  const div = el("div", { class: "chart", id: `chart-${id}` });
  const png = el("button", { type: "button" }, "PNG");
  const svg = el("button", { type: "button" }, "SVG");
  const csv = el("button", { type: "button" }, "CSV");
  parent.append(el("div", { class: "chart-box" }, el("div", { class: "exports" }, title + " ", png, svg, csv), div));
  charts[id]?.dispose();
  const chart = echarts.init(div);
  chart.setOption({ animation: false });  // drawn at once: what a screenshot or export shows is the data
  charts[id] = chart;
  png.onclick = () => download(`${id}.png`, chart.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#fff" }));
  svg.onclick = () => {
    const off = el("div");
    const copy = echarts.init(off, undefined, { renderer: "svg", ssr: true, width: div.clientWidth, height: div.clientHeight });
    const option = chart.getOption() as any;
    option.animation = false;
    copy.setOption(option);
    const text = copy.renderToSVGString();
    copy.dispose();
    download(`${id}.svg`, URL.createObjectURL(new Blob([text], { type: "image/svg+xml" })));
  };
  csv.onclick = () => download(`${id}.csv`, URL.createObjectURL(new Blob([chartCsv(chart)], { type: "text/csv" })));
  return chart;
}

export function table(headers: string[], rows: (string | number | Node)[][], id = ""): HTMLTableElement {
  const t = el("table", id ? { id } : {});
  t.append(el("tr", {}, ...headers.map((h) => el("th", {}, h))));
  for (const r of rows) {
    t.append(el("tr", {}, ...r.map((c) => (typeof c === "number" ? el("td", { class: "num" }, fmt(c)) : el("td", {}, c)))));
  }
  return t;
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e7)) return v.toExponential(3);
  return v.toLocaleString("en-US", { maximumSignificantDigits: 4 });
}

// Marks the page busy, ready or failed: what the browser tests wait on.
// Each finished render also counts up `data-done`, so a test that acts waits
// for the render its action started, not one before it.
export function state(s: "busy" | "ready" | "error") {
  document.body.dataset.state = s;
  if (s !== "busy") document.body.dataset.done = String(Number(document.body.dataset.done ?? "0") + 1);
}

export function showError(where: HTMLElement, e: unknown) {
  where.replaceChildren(el("div", { class: "error", id: "error" }, e instanceof Error ? e.message : String(e)));
  state("error");
}
