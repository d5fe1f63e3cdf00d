// The pages: chip comparison, training plan explorer, export control,
// catalog browser, and any command by its form. Each page posts one request
// to the JSON API and charts fields of its --json reply.
import {
  ApiError, charts, chartBox, commandForm, el, findCommand, fmt, get, loadCommands, run, runCsv, showError, state, table,
} from "./lib";

type Page = { title: string; render: (main: HTMLElement) => Promise<void> };

const GB = 1e9;  // memory in GB (10^9 bytes), as the CLI prints it

// The command's form, `draw` run on each submit (and once on load). `csv`:
// the command has a CSV form (?form=csv), offered as a button.
function formFor(name: string, initial: Record<string, unknown>, main: HTMLElement,
                 draw: (request: Record<string, unknown>, out: HTMLElement) => Promise<void>, csvForm = true) {
  const command = findCommand(name);
  if (command === undefined) {
    main.append(el("p", {}, `The server does not serve '${name}'.`));
    state("ready");
    return;
  }
  const out = el("div", { id: "out" });
  const csv = el("button", { type: "button", id: "result-csv" }, "Result as CSV");
  let last: Record<string, unknown> | null = null;
  csv.onclick = async () => {
    if (last === null) return;
    const text = await runCsv(name, last);
    const a = el("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })), download: `${name}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
  };
  const submit = async (request: Record<string, unknown>) => {
    state("busy");
    last = request;
    try {
      out.replaceChildren();
      await draw(request, out);
      state("ready");
    } catch (e) {
      showError(out, e);
    }
  };
  const form = commandForm(command, initial, submit);
  if (csvForm) form.querySelector(".actions")?.append(csv);
  main.append(form, out);
  void submit(Object.fromEntries(Object.entries(initial)));
}

// --- Chip comparison ---

async function comparePage(main: HTMLElement) {
  main.append(el("h2", {}, "Chips compared on one model and workload"));
  formFor("compare", {
    hardware: "h20,h100-sxm,h200-sxm,b200,mi300x,gaudi3,ascend-910b", model: "llama-3.1-70b", input_tokens: 2048,
    output_tokens: 512, tp: 8, batch: 16,
  }, main, async (request, out) => {
    const r = await run("compare", request);
    const rows: any[] = r.results;
    const names = rows.map((x) => x.hardware);
    const grid = el("div", { class: "charts" });
    out.append(el("p", { class: "note" }, r.workload ?? ""), grid);
    const bars = (id: string, title: string, series: [string, (x: any) => number | null][], unit: string) => {
      const c = chartBox(grid, id, title);
      c.setOption({
        tooltip: { trigger: "axis" }, legend: {}, grid: { containLabel: true },
        xAxis: { type: "category", data: names, axisLabel: { rotate: 30 } }, yAxis: { type: "value", name: unit },
        series: series.map(([name, f]) => ({ name, type: "bar", data: rows.map((x) => f(x) ?? null) })),
      });
    };
    bars("throughput", "Throughput", [["output tokens/s", (x) => x.output_tokens_per_s],
                                      ["per device", (x) => x.output_tokens_per_s_per_device]], "tokens/s");
    bars("per-kw", "Per kW", [["output tokens/s per kW", (x) => x.output_tokens_per_s_per_kw]], "tokens/s/kW");
    bars("per-usd", "Per $ of chip price", [["output tokens/s per $", (x) => x.output_tokens_per_s_per_usd]],
         "tokens/s/$");
    bars("latency", "Latency", [["TTFT", (x) => x.ttft_s], ["TPOT", (x) => x.tpot_s]], "s");
    for (const phase of ["prefill", "decode"]) {
      const c = chartBox(grid, `bounds-${phase}`, `What bounds it: ${phase} time by bound`);
      const parts: [string, string][] = [["compute-bound", "compute_bound_s"], ["memory-bound", "memory_bound_s"],
                                         ["communication", "communication_s"], ["overhead", "overhead_s"]];
      c.setOption({
        tooltip: { trigger: "axis" }, legend: {}, grid: { containLabel: true },
        xAxis: { type: "category", data: names, axisLabel: { rotate: 30 } }, yAxis: { type: "value", name: "s" },
        series: parts.map(([name, key]) => ({
          name, type: "bar", stack: "time", data: rows.map((x) => x.breakdown?.[phase]?.[key] ?? null),
        })),
      });
    }
    out.append(table(["hardware", "devices", "batch", "TTFT s", "TPOT s", "tok/s", "tok/s/kW", "fits", "prefill", "decode"],
                     rows.map((x) => [x.hardware, x.devices, x.batch, x.ttft_s, x.tpot_s, x.output_tokens_per_s,
                                      x.output_tokens_per_s_per_kw ?? "-", x.fits ? "yes" : `no: ${x.reason}`,
                                      x.bound?.prefill ?? "", x.bound?.decode ?? ""]), "compare-table"));
  });
}

// --- Latency against throughput (an inference batch sweep) ---

async function curvePage(main: HTMLElement) {
  main.append(el("h2", {}, "Latency against throughput: one deployment at growing batch sizes"),
              el("p", { class: "note" }, "One infer request per batch size below (the form's batch is replaced); " +
                 "points that do not fit are left out. The serving simulation at request rates (queues, continuous batching) " +
                 "is the Serving page."));
  const batches = el("input", { type: "text", id: "batches", value: "1,2,4,8,16,32,64,128,256" });
  const tpotSla = el("input", { type: "text", id: "sla-tpot", value: "50" });
  const ttftSla = el("input", { type: "text", id: "sla-ttft", value: "2" });
  main.append(el("div", { class: "fields" }, el("label", {}, "batch sizes ", batches),
                 el("label", {}, "TPOT SLA (ms) ", tpotSla), el("label", {}, "TTFT SLA (s) ", ttftSla)));
  formFor("infer", { hardware: "h20", model: "llama-3.1-70b", input_tokens: 2048, output_tokens: 512, tp: 8 }, main,
          async (request, out) => {
    const sizes = batches.value.split(",").map((x) => x.trim()).filter(Boolean);
    const { batch: _drop, concurrency: _drop2, ...base } = request;
    const results = await Promise.all(sizes.map((b) => run("infer", { ...base, batch: Number(b) })));
    const fit = results.filter((r) => r.fits);
    const grid = el("div", { class: "charts", style: "grid-template-columns: 1fr" });
    out.append(grid);
    const c = chartBox(grid, "curve", "TPOT and TTFT against output tokens/s");
    const sla = (v: string, scale: number, name: string) =>
      v.trim() === "" || Number.isNaN(Number(v)) ? [] : [{ yAxis: Number(v) * scale, name }];
    c.setOption({
      tooltip: { trigger: "item", formatter: (p: any) => `batch ${p.data.batch}: ${fmt(p.value[0])} tok/s, ${p.seriesName} ${fmt(p.value[1])} s` },
      legend: {}, grid: { containLabel: true },
      xAxis: { type: "value", name: "output tokens/s" }, yAxis: { type: "log", name: "s" },
      series: [
        { name: "TPOT", type: "line", data: fit.map((r) => ({ value: [r.output_tokens_per_s, r.tpot_s], batch: r.batch })),
          markLine: { symbol: "none", lineStyle: { type: "dashed" }, label: { formatter: (p: any) => p.name },
                      data: sla(tpotSla.value, 1e-3, "TPOT SLA") } },
        { name: "TTFT", type: "line", data: fit.map((r) => ({ value: [r.output_tokens_per_s, r.ttft_s], batch: r.batch })),
          markLine: { symbol: "none", lineStyle: { type: "dotted" }, label: { formatter: (p: any) => p.name },
                      data: sla(ttftSla.value, 1, "TTFT SLA") } },
      ],
    });
    out.append(table(["batch", "fits", "output tok/s", "TPOT s", "TTFT s", "decode bound"],
                     results.map((r) => [String(r.batch), r.fits ? "yes" : `no: ${r.reason}`, r.output_tokens_per_s,
                                         r.tpot_s, r.ttft_s, r.bound?.decode ?? ""]), "curve-table"));
  });
}

// --- Serving: latency against throughput from a request-rate sweep ---

const sweepRates = (text: string) => text.split(",").map((x) => x.trim()).filter(Boolean).map(Number);

async function servePage(main: HTMLElement) {
  main.append(el("h2", {}, "Serving at request rates: TTFT and TPOT percentiles against throughput, with the SLA"),
              el("p", { class: "note" }, "One serve request (a simulation of its queue, continuous batching and KV " +
                 "cache) per request rate below; the form's rate is replaced. The SLA lines are the form's sla_ttft " +
                 "and sla_tpot."));
  const rates = el("input", { type: "text", id: "rates", value: "0.25,0.5,1,1.5,2,3" });
  main.append(el("div", { class: "fields" }, el("label", {}, "request rates (requests/s) ", rates)));
  formFor("serve", {
    hardware: "h20", model: "llama-3.1-70b", tp: 8, input_tokens: 2048, output_tokens: 512, requests: 400,
    sla_ttft: 2, sla_tpot: 0.05,
  }, main, async (request, out) => {
    const points = sweepRates(rates.value);
    if (points.length === 0 || points.some((r) => !(r > 0))) {
      throw new ApiError("request rates: give positive numbers, comma-separated", "rates", 400);
    }
    const { rate: _drop, concurrency: _c, offline: _o, max_rate: _m, ...base } = request;
    const results = await Promise.all(points.map((rate) => run("serve", { ...base, rate })));
    const shown = results.map((r, i) => ({ ...r, rate: points[i] })).filter((r) => r.fits);
    const grid = el("div", { class: "charts" });
    out.append(grid);
    const sla = (v: unknown, name: string) => (typeof v === "number" ? [{ yAxis: v, name }] : []);
    const curve = (id: string, title: string, key: "ttft_s" | "tpot_s", slaValue: unknown, slaName: string) => {
      const c = chartBox(grid, id, title);
      const line = (p: "p50" | "p90", style: string) => ({
        name: `${key === "ttft_s" ? "TTFT" : "TPOT"} ${p}`, type: "line",
        data: shown.map((r) => ({ value: [r.output_tokens_per_s, r[key][p]], rate: r.rate })),
        lineStyle: { type: style },
        markLine: p === "p90" ? { symbol: "none", lineStyle: { type: "dashed", color: "#c23531" },
                                  label: { formatter: (x: any) => x.name }, data: sla(slaValue, slaName) } : undefined,
      });
      c.setOption({
        tooltip: { trigger: "item", formatter: (p: any) => `${p.data.rate} requests/s: ${fmt(p.value[0])} tok/s, ` +
                                                            `${p.seriesName} ${fmt(p.value[1])} s` },
        legend: {}, grid: { containLabel: true },
        xAxis: { type: "value", name: "output tokens/s", scale: true }, yAxis: { type: "log", name: "s" },
        series: [line("p50", "solid"), line("p90", "solid")],
      });
    };
    curve("serve-ttft", "TTFT p50 and p90 against output tokens/s", "ttft_s", request.sla_ttft, "TTFT SLA");
    curve("serve-tpot", "TPOT p50 and p90 against output tokens/s", "tpot_s", request.sla_tpot, "TPOT SLA");
    out.append(table(["rate req/s", "fits", "served req/s", "output tok/s", "TTFT p50 s", "TTFT p90 s", "TPOT p50 s",
                      "TPOT p90 s", "SLA attainment", "goodput req/s"],
                     results.map((r, i) => r.fits
                       ? [points[i], "yes", r.requests_per_s, r.output_tokens_per_s, r.ttft_s.p50, r.ttft_s.p90,
                          r.tpot_s.p50, r.tpot_s.p90, r.sla_attainment, r.goodput_requests_per_s]
                       : [points[i], `no: ${r.reason}`, "", "", "", "", "", "", "", ""]), "serve-table"));
  }, false);
}

// --- Fleet planner: a shipped scenario, its mix per period ---

async function fleetPage(main: HTMLElement) {
  main.append(el("h2", {}, "Fleet planner: the least-cost fleet of a shipped scenario, period by period"));
  const examples: any[] = (await get("/api/examples/fleet")).examples;
  const scenario = el("pre", { id: "scenario" });
  const details = el("details", {}, el("summary", {}, "the scenario file"), scenario);
  main.append(el("p", { class: "note" }, `${examples.length} scenarios shipped in examples/fleet/; ` +
                 "the server reads no other file."), details);
  const showScenario = (id: unknown) => {
    scenario.textContent = examples.find((e) => e.id === id)?.text ?? "";
  };
  const first = examples.find((e) => e.id === "china-2025-deepseek")?.id ?? examples[0]?.id;
  formFor("fleet", first === undefined ? {} : { example: first }, main, async (request, out) => {
    showScenario(request.example);
    const r = await run("fleet", request);
    const periods: any[] = r.periods;
    const systems: string[] = r.candidates.map((c: any) => c.system);
    out.append(el("p", { class: "note", id: "fleet-summary" },
                  r.feasible ? `${r.scenario}: total cost ${fmt(r.total_cost_usd)} USD (capex ${fmt(r.capex_usd)} USD), ` +
                               `solver ${r.solver} (${r.solver_status}).`
                             : `${r.scenario}: no plan meets every constraint (${r.solver_status}). ` +
                               `Conflicting: ${(r.conflicts ?? []).join("; ")}`));
    const grid = el("div", { class: "charts" });
    out.append(grid);
    const names = periods.map((p) => p.period);
    const mix = chartBox(grid, "fleet-mix", "Nodes owned per period, by system");
    mix.setOption({
      tooltip: { trigger: "axis" }, legend: {}, grid: { containLabel: true },
      xAxis: { type: "category", data: names }, yAxis: { type: "value", name: "nodes" },
      series: systems.map((s) => ({ name: s, type: "bar", stack: "units", data: periods.map((p) => p.units?.[s] ?? 0) })),
    });
    const cost = chartBox(grid, "fleet-cost", "Cost per period");
    cost.setOption({
      tooltip: { trigger: "axis" }, legend: {}, grid: { containLabel: true },
      xAxis: { type: "category", data: names }, yAxis: { type: "value", name: "USD" },
      series: [{ name: "cost", type: "bar", data: periods.map((p) => p.cost_usd) },
               { name: "capex", type: "bar", data: periods.map((p) => p.capex_usd) }],
    });
    out.append(el("h3", {}, "Cost and mix per period"),
               table(["period", "cost USD", "capex USD", "power W", ...systems.map((s) => `${s} (bought)`)],
                     periods.map((p) => [p.period, p.cost_usd, p.capex_usd, p.power_w,
                                         ...systems.map((s) => `${p.units?.[s] ?? 0} (${p.bought?.[s] ?? 0})`)]),
                     "fleet-periods"),
               el("h3", {}, "Binding constraints"),
               table(["constraint", "kind", "shadow price", "relaxed shadow price", "unit", "slack"],
                     (r.binding ?? []).map((b: any) => [b.constraint, b.kind, b.shadow_price, b.relaxed_shadow_price,
                                                        b.unit, b.slack]),
                     "fleet-binding"));
    // Every deployment each system offers each demand, and the ones the plan uses.
    const offered = r.candidates.flatMap((c: any) => (c.capacity ?? []).flatMap((cap: any) =>
      (cap.options ?? []).map((o: any) => [c.system, cap.demand, o.per_node, o.deployment_nodes, o.from])));
    out.append(el("h3", {}, "Deployments offered: capacity per node, nodes per deployment"),
               table(["system", "demand", "per node", "nodes", "plan"], offered, "fleet-options"),
               el("h3", {}, "Deployments in the plan"),
               table(["period", "system", "demand", "count", "nodes each", "plan"],
                     periods.flatMap((p) => (p.deployments ?? []).map((x: any) =>
                       [p.period, x.system, x.demand, x.count, x.deployment_nodes, x.from])),
                     "fleet-deployments"));
    const blocked = r.candidates.flatMap((c: any) => (c.not_purchasable ?? []).map((b: any) => [c.system, b.period, b.why]));
    if (blocked.length) out.append(el("h3", {}, "Not purchasable"), table(["system", "period", "why"], blocked, "fleet-blocked"));
    if (r.shocks) {
      out.append(el("h3", {}, "Single-vendor shocks: demand still served"),
                 table(["shock", "served fraction"], r.shocks.map((x: any) => [x.shock, x.served_fraction]), "fleet-shocks"));
    }
  }, false);
  const select = document.querySelector("#form-fleet [name=example]") as HTMLSelectElement | null;
  if (select !== null) select.addEventListener("change", () => showScenario(select.value));
  showScenario(first);
}

// --- Training plan explorer ---

function planText(p: any): string {
  return ["tp", "pp", "dp", "cp", "ep", "vp"].map((k) => `${k}${p[k]}`).join(" ") +
         ` mb${p.micro_batch} ${p.recompute} zero${p.zero}`;
}

async function trainPage(main: HTMLElement) {
  main.append(el("h2", {}, "Training plans: every plan kept by the search, MFU against memory"));
  formFor("train", {
    hardware: "h100-sxm", model: "llama-3.1-70b", devices: 256, seq_len: 4096, global_batch: 512, search: true,
    top: 500, pareto: true,
  }, main, async (request, out) => {
    const r = await run("train", request);
    const plans: any[] = r.top ?? [r];
    const front: any[] = r.pareto ?? [];
    const grid = el("div", { class: "charts" });
    out.append(el("p", { class: "note" },
                  `${r.candidates_evaluated ?? 1} plans evaluated, ${r.candidates_feasible ?? 1} fit; ` +
                  `${plans.length} kept (top), ${front.length} on the step-time/memory front. Memory in GB (10^9 bytes).`),
               grid);
    const c = chartBox(grid, "plans", "MFU against memory per device");
    const point = (p: any) => ({ value: [p.memory.total_bytes / GB, p.mfu], name: planText(p.plan) });
    c.setOption({
      tooltip: { trigger: "item", formatter: (x: any) => `${x.name}<br>memory ${fmt(x.value[0])} GB, MFU ${fmt(x.value[1])}` },
      legend: {}, grid: { containLabel: true },
      xAxis: { type: "value", name: "memory per device (GB)", scale: true },
      yAxis: { type: "value", name: "MFU", scale: true },
      series: [{ name: "top plans", type: "scatter", data: plans.map(point), symbolSize: 7 },
               { name: "pareto front", type: "scatter", data: front.map(point), symbolSize: 11, symbol: "diamond" }],
    });
    out.append(table(["#", "plan", "step time s", "MFU", "tokens/s", "memory GB", "bound"],
                     plans.slice(0, 10).map((p, i) => [String(i + 1), planText(p.plan), p.step_time_s, p.mfu,
                                                       p.tokens_per_s, p.memory.total_bytes / GB, p.bound]),
                     "plans-table"));
  });
}

// --- Export control ---

function thresholds(when: any, out: { metric: string; value: number }[]) {
  if (!when) return;
  if (when.metric !== undefined) out.push({ metric: when.metric, value: when.threshold });
  for (const child of [...(when.all ?? []), ...(when.any ?? [])]) thresholds(child, out);
}

async function exportPage(main: HTMLElement) {
  main.append(el("h2", {}, "Export control: TPP against performance density, with each rule set's thresholds"));
  const rules: any[] = (await get("/api/catalog/rules")).rules;
  const select = el("select", { id: "rule-set" });
  for (const r of rules) select.append(el("option", { value: r.id }, `${r.name} (${r.status})`));
  select.value = rules.find((r) => r.id === "us-2023-10")?.id ?? rules[0]?.id ?? "";
  main.append(el("label", {}, "rule set drawn: ", select));
  let last: any = null;
  const draw = async (out: HTMLElement) => {
    const ruleset = await get(`/api/record/${encodeURIComponent(select.value)}`);
    const lines: { metric: string; value: number }[] = [];
    for (const cat of ruleset.categories ?? []) thresholds(cat.when, lines);
    // Chips without a TPP or die area cannot be placed (log axes).
    const results: any[] = last.results.filter((x: any) => x.rules === select.value && x.tpp > 0 &&
                                                             x.performance_density > 0);
    const categories = [...new Set(results.map((x) => x.category))];
    out.replaceChildren();
    const grid = el("div", { class: "charts", style: "grid-template-columns: 1fr" });
    out.append(grid);
    const c = chartBox(grid, "export", `${ruleset.name}: TPP and performance density of every chip`);
    const unique = (metric: string) => [...new Set(lines.filter((l) => l.metric === metric).map((l) => l.value))];
    c.setOption({
      tooltip: {
        trigger: "item", confine: true,
        formatter: (p: any) => {
          const x = p.data?.chip;
          if (!x) return p.name ?? "";
          return `<b>${x.chip}</b>: ${x.category}${x.controlled ? " (controlled)" : ""}<br>TPP ${fmt(x.tpp)}, PD ${fmt(x.performance_density)}` +
                 `<br>${(x.reasons ?? []).join("<br>")}<br>${(x.headroom ?? []).map((h: any) => h.note).join("<br>")}`;
        },
      },
      legend: {}, grid: { containLabel: true },
      xAxis: { type: "log", name: "TPP", min: 100 }, yAxis: { type: "log", name: "performance density", min: 0.1 },
      series: [
        ...categories.map((cat) => ({
          name: cat, type: "scatter", symbolSize: 9,
          data: results.filter((x) => x.category === cat).map((x) => ({ name: x.chip, value: [x.tpp, x.performance_density], chip: x })),
          label: { show: true, formatter: (p: any) => p.name, position: "right", fontSize: 9 },
        })),
        {
          name: "thresholds", type: "scatter", data: [],
          markLine: {
            symbol: "none", label: { formatter: (p: any) => p.name }, lineStyle: { type: "dashed" },
            data: [...unique("tpp").map((v) => ({ xAxis: v, name: `TPP ${v}` })),
                   ...unique("performance_density").map((v) => ({ yAxis: v, name: `PD ${v}` }))],
          },
        },
      ],
    });
    out.append(table(["chip", "category", "TPP", "PD", "headroom"],
                     results.map((x) => [x.chip, x.category, x.tpp, x.performance_density,
                                         (x.headroom ?? []).map((h: any) => h.note).join("; ")]), "export-table"));
  };
  formFor("classify", { hardware: "all" }, main, async (request, out) => {
    last = await run("classify", request);
    await draw(out);
  });
  select.onchange = async () => {
    const out = document.getElementById("out");
    if (last === null || out === null) return;
    state("busy");
    try {
      await draw(out);
      state("ready");
    } catch (e) {
      showError(out, e);
    }
  };
}

// --- Catalog browser ---

async function catalogPage(main: HTMLElement) {
  main.append(el("h2", {}, "The catalog: every record, every figure with its source and basis"));
  const kinds: string[] = (await get("/api/commands")).record_kinds;
  const select = el("select", { id: "kind" });
  for (const k of kinds) select.append(el("option", { value: k }, k));
  if (kinds.includes("chips")) select.value = "chips";
  const list = el("div", { id: "list" });
  const record = el("div", { id: "record" });
  main.append(el("label", {}, "kind: ", select), el("div", { class: "charts" }, list, record));
  const show = async (id: string) => {
    state("busy");
    try {
      const r = await get(`/api/record/${encodeURIComponent(id)}`);
      const link = (s: string) => {
        const a = el("a", { class: "record" }, s);
        a.onclick = () => void show(s);
        return a;
      };
      const scalars = Object.entries(r).filter(([, v]) => v === null || typeof v !== "object");
      const parts: Node[] = [el("h3", {}, `${r.name ?? r.title ?? r.id} (${r.kind ?? ""})`),
                             table(["field", "value"], scalars.map(([k, v]) => [k, String(v)]), "record-fields")];
      if (r.figures) {
        parts.push(table(["figure", "value", "basis", "sources", "note"],
                         Object.entries(r.figures).map(([k, f]: [string, any]) => {
                           const sources = el("span");
                           for (const s of f.sources ?? []) sources.append(link(s), " ");
                           return [k, f.display ?? String(f.value), f.basis ?? "", sources, f.note ?? ""];
                         }), "record-figures"));
      }
      if (Array.isArray(r.sources)) {
        const sources = el("p", {}, "sources: ");
        for (const s of r.sources) sources.append(link(s), " ");
        parts.push(sources);
      }
      record.replaceChildren(...parts);
      state("ready");
    } catch (e) {
      showError(record, e);
    }
  };
  const load = async () => {
    state("busy");
    try {
      const data = await get(`/api/catalog/${select.value}`);
      const items: any[] = Object.values(data).find(Array.isArray) as any[] ?? [];
      const keys = items.length ? Object.keys(items[0]).filter((k) => typeof items[0][k] !== "object") : [];
      list.replaceChildren(table(keys, items.map((x) => keys.map((k) => {
        if (k !== "id") return typeof x[k] === "number" ? x[k] : String(x[k] ?? "");
        const a = el("a", { class: "record" }, x.id);
        a.onclick = () => void show(x.id);
        return a;
      })), "catalog-list"));
      state("ready");
    } catch (e) {
      showError(list, e);
    }
  };
  select.onchange = () => void load();
  await load();
}

// --- Any command ---

async function runPage(main: HTMLElement) {
  main.append(el("h2", {}, "Any command: its fields, its JSON"));
  const commands = await loadCommands();
  const select = el("select", { id: "command" });
  for (const c of commands) select.append(el("option", { value: c.name }, c.name));
  const holder = el("div");
  main.append(el("label", {}, "command: ", select), holder);
  const show = () => {
    holder.replaceChildren();
    const command = findCommand(select.value);
    if (command === undefined) return;
    const out = el("pre", { id: "json" });
    const form = commandForm(command, {}, async (request) => {
      state("busy");
      try {
        out.textContent = JSON.stringify(await run(command.name, request), null, 2);
        state("ready");
      } catch (e) {
        showError(out, e);
      }
    });
    holder.append(form, out);
    state("ready");
  };
  select.onchange = show;
  show();
}

const pages: Record<string, Page> = {
  compare: { title: "Compare chips", render: comparePage },
  curve: { title: "Latency vs batch", render: curvePage },
  serve: { title: "Serving", render: servePage },
  train: { title: "Training plans", render: trainPage },
  export: { title: "Export control", render: exportPage },
  fleet: { title: "Fleet planner", render: fleetPage },
  catalog: { title: "Catalog", render: catalogPage },
  run: { title: "Any command", render: runPage },
};

async function route() {
  const name = location.hash.replace(/^#/, "") || "compare";
  const page = pages[name] ?? pages.compare;
  const main = document.getElementById("page")!;
  for (const id of Object.keys(charts)) {
    charts[id].dispose();
    delete charts[id];
  }
  main.replaceChildren();
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.getAttribute("href") === `#${name}`));
  state("busy");
  try {
    await loadCommands();
    await page.render(main);
  } catch (e) {
    showError(main, e instanceof ApiError ? e : new Error(String(e)));
  }
}

const nav = document.getElementById("nav")!;
for (const [name, page] of Object.entries(pages)) nav.append(el("a", { href: `#${name}` }, page.title));
window.addEventListener("hashchange", () => void route());
window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
void route();
