// Search page: the rules of digitaldock/search.py (`Index`) in the browser, over the same
// static shards. index.json first, then only the term shards the query's words fall in, the
// facet columns, the card chunks of the results on screen, and the sort ranks only to sort by
// price or rating. Without JavaScript the form goes to the edge, which answers from the same
// files with the same rules. Keep the two in step: tests/generator/test_search_browser.py
// compares them.
const root = document.getElementById("search");
const form = document.getElementById("search-form");
const input = document.getElementById("search-q");
const sortSelect = document.getElementById("search-sort");
const statusEl = document.getElementById("search-status");
const results = document.getElementById("search-results");
const suggestEl = document.getElementById("search-suggestions");
const moreButton = document.getElementById("search-more");
const FILTERS = ["category", "price", "rating"];
const PAGE = 24;
const TITLE = "^";
const EXACT = 3, PREFIX = 2, TYPO = 1;
const base = new URL("index.json", new URL("/search/", location.href));

const fold = (s) => s.toLowerCase().normalize("NFKD").replace(/\p{Mn}/gu, "");
const words = (s) => fold(s).match(/[\p{L}\p{N}]+/gu) || [];

// JS compares strings by UTF-16 code units, Python by code points: sort keys the Python way
const cmp = (a, b) => {
  const x = Array.from(a), y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d) return d;
  }
  return x.length - y.length;
};

function distance(a, b, limit) {
  a = Array.from(a); b = Array.from(b);
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev2 = [], prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) cur[j] = Math.min(cur[j], prev2[j - 2] + 1);
    }
    if (Math.min(...cur) > limit) return limit + 1;
    prev2 = prev; prev = cur;
  }
  return prev[b.length] <= limit ? prev[b.length] : limit + 1;
}

function merge(found, deltas, score) {
  let i = 0;
  for (const d of deltas) { i += d; if (score > (found.get(i) || 0)) found.set(i, score); }
}
function and(a, b) {
  if (b === null) return new Map(a);
  const out = new Map();
  const [small, big] = a.size > b.size ? [b, a] : [a, b];
  for (const [k, v] of small) if (big.has(k)) out.set(k, v + big.get(k));
  return out;
}

class Index {
  constructor(entry) {
    this.entry = entry;
    this.rules = entry.rules;
    this.firsts = entry.shards.map((s) => s[0]);
    this.files = new Map();
  }
  async load(name) {
    if (!this.files.has(name)) {
      this.files.set(name, fetch(new URL(name, base)).then((r) => {
        if (!r.ok) throw new Error(name + " " + r.status);
        return r.json();
      }));
    }
    return this.files.get(name);
  }
  queryWords(q) { return words(Array.from(q).slice(0, this.rules.max_query).join("")).slice(0, this.rules.max_terms); }
  typoLimit(w) {
    if (/\p{N}/u.test(w)) return 0;  // no typos in numbers: "4242" is not "4241"
    const n = Array.from(w).length; return n >= this.rules.typo_2 ? 2 : n >= this.rules.typo_1 ? 1 : 0; }
  // every shard a query needs, fetched at once, so matching below runs without waiting
  async prepare(ws) {
    const need = new Set();
    const add = (w, prefix) => this.shardsFor(w, prefix).forEach((s) => need.add(s));
    ws.forEach((w, i) => {
      add(w, Array.from(w).length >= this.rules.prefix_min);
      if (i + 1 < ws.length) add(w + ws[i + 1], true);
    });
    if (ws.length) add(TITLE + ws.join(""), true);
    const shards = [...need].map((s) => this.entry.shards[s][1]);
    await Promise.all(shards.map(async (name) => {
      const data = await this.load(name);
      if (!data.__keys) Object.defineProperty(data, "__keys", { value: Object.keys(data).sort(cmp) });
    }));
  }
  match(word) {
    const prefix = Array.from(word).length >= this.rules.prefix_min;
    const limit = this.typoLimit(word);
    const found = new Map();
    for (const s of this.shardsFor(word, prefix)) {
      const data = this.loaded.get(this.entry.shards[s][1]);
      const keys = data.__keys;
      for (let j = limit ? 0 : bisectLeftCmp(keys, word); j < keys.length; j++) {
        const k = keys[j];
        let quality;
        if (k === word) quality = EXACT;
        else if (prefix && k.startsWith(word)) quality = PREFIX;
        else if (limit && !k.startsWith(TITLE) && distance(word, k, limit) <= limit) quality = TYPO;
        else if (!limit && !k.startsWith(word)) break;
        else continue;
        merge(found, data[k][0], quality * 2);
        merge(found, data[k][1], quality);
      }
    }
    return found;
  }
  titleMatch(joined) {
    const key = TITLE + joined;
    const out = new Map();
    for (const s of this.shardsFor(key, true)) {
      const data = this.loaded.get(this.entry.shards[s][1]);
      const keys = data.__keys;
      for (let j = bisectLeftCmp(keys, key); j < keys.length && keys[j].startsWith(key); j++) {
        merge(out, data[keys[j]][0], keys[j] === key ? 2 : 1);
      }
    }
    return out;
  }
  terms(ws, i, memo) {
    if (i === ws.length) return null;
    if (memo.has(i)) return memo.get(i);
    const out = and(this.match(ws[i]), this.terms(ws, i + 1, memo));
    if (i + 1 < ws.length) {
      for (const [k, v] of and(this.match(ws[i] + ws[i + 1]), this.terms(ws, i + 2, memo))) {
        if (v > (out.get(k) || 0)) out.set(k, v);
      }
    }
    memo.set(i, out);
    return out;
  }
  nearest(w) {
    if (Array.from(w).length < 3) return null;
    let best = null;
    for (const s of this.shardsFor(w, false)) {
      const data = this.loaded.get(this.entry.shards[s][1]);
      for (const k of data.__keys) {
        if (k.startsWith(TITLE)) continue;
        const d = distance(w, k, 2);
        if (d <= 2) {
          const cand = [d, -(data[k][0].length + data[k][1].length), k];
          if (best === null || cand[0] < best[0] || (cand[0] === best[0] && (cand[1] < best[1] || (cand[1] === best[1] && cmp(k, best[2]) < 0)))) best = cand;
        }
      }
    }
    return best && best[0] > 0 ? best[2] : null;
  }
  suggest(ws) {
    const out = [];
    const fixed = ws.map((w) => this.nearest(w) || w);
    if (fixed.join(" ") !== ws.join(" ") && this.terms(fixed, 0, new Map()).size) out.push(fixed.join(" "));
    if (ws.length > 1) {
      for (const w of new Set(fixed)) if (this.terms([w], 0, new Map()).size && !out.includes(w)) out.push(w);
    }
    return out.slice(0, 3);
  }
  async search(q, filters, sort) {
    const ws = this.queryWords(q);
    const [facets] = await Promise.all([this.load(this.entry.facets_file), this.prepare(ws)]);
    this.loaded = new Map();
    for (const [name, p] of this.files) this.loaded.set(name, await p);
    const n = this.entry.count;
    const scores = ws.length ? this.terms(ws, 0, new Map()) : null;
    let ids = scores === null ? Array.from({ length: n }, (_, i) => i) : [...scores.keys()].sort((a, b) => a - b);
    const chosen = this.chosen(filters);
    const counts = this.facetCounts(ids, facets, chosen);
    ids = ids.filter((i) => passes(i, facets, chosen, ""));
    if (sort === "price-low" || sort === "price-high" || sort === "rating" || sort === "popular") {
      const ranks = (await this.load(this.entry.sort_file))[sort.startsWith("price") ? "price" : sort];
      ids.sort((a, b) => (sort === "price-high" ? ranks[b] - ranks[a] : ranks[a] - ranks[b]));
    } else if (scores !== null && sort !== "newest") {
      const title = this.titleMatch(ws.join(""));
      ids.sort((a, b) => (title.get(b) || 0) - (title.get(a) || 0) || scores.get(b) - scores.get(a) || a - b);
    }
    const suggestions = ws.length && !ids.length ? this.suggest(ws) : [];
    return { total: ids.length, ids, facets: counts, suggestions };
  }
  chosen(filters) {
    const chosen = {};
    const cats = new Map(this.entry.facets.category.map((c, n) => [c, n]));
    const prices = new Map(this.entry.facets.price.map(([v], n) => [v, n]));
    for (const [name, table] of [["category", cats], ["price", prices]]) {
      const picked = new Set((filters[name] || []).filter((v) => table.has(v)).map((v) => table.get(v)));
      if (picked.size) chosen[name] = picked;
    }
    const stars = (filters.rating || []).filter((v) => ["4", "3", "2", "1"].includes(v)).map(Number);
    if (stars.length) chosen.rating = new Set([0, 1, 2, 3, 4, 5].filter((s) => s >= Math.min(...stars)));
    return chosen;
  }
  facetCounts(ids, facets, chosen) {
    const out = {};
    const labels = { category: this.entry.facets.category, price: this.entry.facets.price.map(([v]) => v) };
    for (const name of FILTERS) {
      const counts = new Map();
      for (const i of ids) {
        if (passes(i, facets, chosen, name)) counts.set(facets[name][i], (counts.get(facets[name][i]) || 0) + 1);
      }
      if (name === "rating") {
        out.rating = {};
        for (const r of [4, 3, 2, 1]) out.rating[String(r)] = [...counts].reduce((t, [v, c]) => t + (v >= r ? c : 0), 0);
      } else {
        out[name] = {};
        for (const [v, c] of [...counts].sort((a, b) => a[0] - b[0])) out[name][labels[name][v]] = c;
      }
    }
    return out;
  }
  async cards(ids) {
    const chunk = this.entry.chunk;
    const loaded = await Promise.all(ids.map((i) => this.load(this.entry.docs[Math.floor(i / chunk)])));
    return ids.map((i, k) => loaded[k][i % chunk]);
  }
}

function bisectLeftCmp(list, x) {
  let lo = 0, hi = list.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (cmp(list[mid], x) < 0) lo = mid + 1; else hi = mid; }
  return lo;
}
function passes(i, facets, chosen, skip) {
  for (const [name, values] of Object.entries(chosen)) if (name !== skip && !values.has(facets[name][i])) return false;
  return true;
}
// the shards a word's keys may be in: the one it sorts into (in Python's order) and, for
// prefix matches, the next ones that begin with it
function bisectRightCmp(list, x) {
  let lo = 0, hi = list.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (cmp(x, list[mid]) < 0) hi = mid; else lo = mid + 1; }
  return lo;
}
Index.prototype.shardsFor = function (word, prefix) {
  if (!this.firsts.length) return [];
  const first = Math.max(0, bisectRightCmp(this.firsts, word) - 1);
  const out = [first];
  if (prefix) {
    for (let n = first + 1; n < this.firsts.length && this.firsts[n].startsWith(word) && out.length < this.rules.prefix_shards; n++) out.push(n);
  }
  return out;
};

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function card(p) {
  const li = el("li", { class: "card" });
  const a = el("a", { class: "card-link", href: p.u });
  a.append(el("img", { src: p.i[0], width: p.i[1], height: p.i[2], alt: "", loading: "lazy" }));
  a.append(el("span", { class: "card-title" }, p.t));
  li.append(a);
  li.append(el("span", { class: "card-meta" }, `${p.s} · ${p.c}`));
  const foot = el("span", { class: "card-foot" });
  foot.append(el("span", { class: "price" }, p.p));
  if (p.r) foot.append(el("span", { class: "rating" }, `★ ${p.r}`));
  li.append(foot);
  return li;
}

function chosenFilters() {
  const chosen = {};
  for (const name of FILTERS) {
    const checked = [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((c) => c.value);
    if (checked.length) chosen[name] = checked;
  }
  return chosen;
}

function drawFacets(index, counts, chosen) {
  const labels = {
    category: index.entry.facets.category.map((c) => [c, c]),
    price: index.entry.facets.price.filter(([v]) => index.entry.price_shown.includes(v)),
    rating: index.entry.facets.rating,
  };
  for (const name of FILTERS) {
    const box = document.getElementById("filter-" + name);
    const picked = new Set(chosen[name] || []);
    const rows = [];
    for (const [value, label] of labels[name]) {
      const count = counts[name][value] || 0;
      if (!count && !picked.has(value)) continue;
      const id = `f-${name}-${value}`.replace(/[^a-zA-Z0-9_-]/g, "-");
      const row = el("label", { for: id });
      const boxInput = el("input", { type: "checkbox", id, name, value });
      boxInput.checked = picked.has(value);
      row.append(boxInput, ` ${label} (${count})`);
      rows.push(row);
    }
    box.replaceChildren(box.querySelector("legend"), ...rows);
    box.hidden = rows.length === 0;
  }
}

async function main() {
  const response = await fetch(base);
  if (!response.ok) throw new Error("index " + response.status);
  const index = new Index(await response.json());
  form.removeAttribute("action");
  document.getElementById("search-js-note").hidden = true;
  const params = new URLSearchParams(location.search);
  input.value = params.get("q") || "";
  if (params.get("sort") && [...sortSelect.options].some((o) => o.value === params.get("sort"))) sortSelect.value = params.get("sort");
  const initial = {};
  for (const name of FILTERS) if (params.getAll(name).length) initial[name] = params.getAll(name);

  let shown = [], found = null, run_id = 0, last = null;
  async function showMore() {
    const next = found.ids.slice(shown.length, shown.length + PAGE);
    const cards = await index.cards(next);
    shown = shown.concat(next);
    results.append(...cards.map(card));
    moreButton.hidden = shown.length >= found.total;
  }
  async function run(filters) {
    const chosen = filters || chosenFilters();
    // the same search again (a "change" after its "input", as the box loses focus) redraws nothing
    const key = JSON.stringify([input.value, chosen, sortSelect.value]);
    if (key === last) return;
    last = key;
    const mine = ++run_id;
    const result = await index.search(input.value, chosen, sortSelect.value);
    if (mine !== run_id) return;  // a newer query has started
    found = result;
    shown = [];
    results.replaceChildren();
    await showMore();
    drawFacets(index, result.facets, chosen);
    const n = result.total;
    statusEl.textContent = `${n} product${n === 1 ? "" : "s"} found`;
    suggestEl.replaceChildren();
    if (result.suggestions.length) {
      suggestEl.append("Did you mean: ");
      result.suggestions.forEach((s, k) => {
        const a = el("a", { href: "?q=" + encodeURIComponent(s) }, s);
        a.addEventListener("click", (e) => { e.preventDefault(); input.value = s; run(); });
        suggestEl.append(...(k ? [", ", a] : [a]));
      });
      suggestEl.append("?");
    }
    suggestEl.hidden = !result.suggestions.length;
    const url = new URL(location.href);
    url.search = "";
    if (input.value.trim()) url.searchParams.set("q", input.value.trim());
    for (const [name, values] of Object.entries(chosen)) for (const v of values) url.searchParams.append(name, v);
    if (sortSelect.value) url.searchParams.set("sort", sortSelect.value);
    history.replaceState(null, "", url);
  }
  const go = () => run().catch(() => { last = null; failed(); });
  form.addEventListener("input", go);
  form.addEventListener("change", go);
  form.addEventListener("submit", (e) => { e.preventDefault(); go(); });
  moreButton.addEventListener("click", () => showMore().catch(failed));
  await run(initial);
}

function failed() {
  statusEl.textContent = "Search is unavailable right now; the button sends your search to the shop instead.";
}

main().catch(failed);
