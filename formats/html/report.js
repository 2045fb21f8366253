/* mapsnap report: draws the page from the embedded "mapsnap.report/1"
 * document. Everything in that document came from a snapshot and is
 * attacker-controlled text (a path can hold an end tag and markup):
 * the DOM is built with createElement and textContent only, never
 * innerHTML, and nothing is fetched. */
'use strict';

(function () {
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const PAGE_SIZE = 100;
  /* The treemap draws at most this many regions one by one; the rest are
   * merged into one rectangle per library, file or group. */
  const MAX_RECTS = 2000;
  /* ...and at most this many groups per kind before merging groups. */
  const MAX_GROUPS = 150;
  const MAX_SUSPECT_CHARTS = 12;

  /* The fields of one region in D.regions (report_html.c writes them). */
  const R = {
    START: 0, END: 1, PERMS: 2, KIND: 3, IMAGE: 4, PATH: 5, SIZE: 6, RSS: 7,
    PSS: 8, DIRTY: 9, SWAP: 10, ANON: 11, LAYOUT: 12, VALUES: 13, FLAGS: 14,
    OFFSET: 15, DEV: 16, INODE: 17, MARK: 18, EVIDENCE: 19, ATTACHED: 20,
  };

  const CHANGE_COLORS = {
    unchanged: '#c9ced6', grown: '#c0392b', shrunk: '#5d8fd6', new: '#8e44ad',
    duplicated: '#e67e22', replaced: '#d4ac0d', perms: '#16a085',
  };

  /* How long reading the data and drawing took, for make bench (the
   * parse alone is its baseline). */
  const startedAt = performance.now();
  const D = JSON.parse(document.getElementById('mapsnap-data').textContent);
  const parsedAt = performance.now();
  /* The kinds, their colours and their --kind groups come with the data
   * (formats/kinds.c), so a kind libsnap adds needs no change here. */
  const KINDS = D.kinds.map((k) => k.name);
  const KIND_COLORS = {};
  /* The --kind groups of show and summary: any other name is an exact
   * kind. A kind the data gives no group is a group of its own. */
  const KIND_GROUPS = {};
  for (const k of D.kinds) {
    if (/^#[0-9a-fA-F]{6}$/.test(k.color || '')) KIND_COLORS[k.name] = k.color;
    const group = k.group || k.name;
    (KIND_GROUPS[group] = KIND_GROUPS[group] || []).push(k.name);
  }

  function kindColor(name) {
    return KIND_COLORS[name] || derivedColor(name);
  }

  /* The colour of a kind the data gives none (a newer mapsnap's kind, an
   * edited page): FNV-1a of its name, each channel kept in 40..bf so it
   * is neither black nor white on the page, the same on every load. */
  function derivedColor(name) {
    let h = 0x811c9dc5;
    for (const c of new TextEncoder().encode(name)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
    let hex = '#';
    for (let shift = 16; shift >= 0; shift -= 8) {
      hex += (0x40 + ((h >>> shift) & 0x7f)).toString(16);
    }
    return hex;
  }
  /* Why a region is of its kind, by index (regions) or name (changes). */
  const EVIDENCE = D.evidence;
  const EVIDENCE_BY_NAME = {};
  for (const e of EVIDENCE) EVIDENCE_BY_NAME[e.name] = e.about;
  const regions = D.regions.map((a, i) => ({ i: i, a: a, kind: a[R.KIND], rss: a[R.RSS] }));

  /* ---- small helpers ---- */

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    setAttrs(e, attrs);
    append(e, children);
    return e;
  }

  function svgEl(tag, attrs, ...children) {
    const e = document.createElementNS(SVG_NS, tag);
    setAttrs(e, attrs);
    append(e, children);
    return e;
  }

  function setAttrs(e, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined && v !== false) e.setAttribute(k, String(v));
    }
  }

  function append(e, children) {
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
  }

  function clear(e) {
    while (e.firstChild) e.removeChild(e.firstChild);
  }

  function byId(id) {
    return document.getElementById(id);
  }

  /* kB as "512K", "12.3M", "1.50G" (fmt_kb in formats/). */
  function fmtKB(kb, sign) {
    const neg = kb < 0;
    let v = Math.abs(kb);
    let text;
    if (v < 1024) text = v.toFixed(0) + 'K';
    else if (v < 1024 * 1024) text = (v / 1024).toFixed(v < 10 * 1024 ? 2 : 1) + 'M';
    else text = (v / 1024 / 1024).toFixed(2) + 'G';
    if (neg) return '-' + text;
    return sign && kb > 0 ? '+' + text : text;
  }

  function fmtCount(n) {
    return Number(n).toLocaleString('en-US');
  }

  function fmtSeconds(s) {
    if (s < 120) return (Math.round(s * 10) / 10) + 's';
    if (s < 7200) return (Math.round(s / 6) / 10) + 'min';
    return (Math.round(s / 360) / 10) + 'h';
  }

  function fmtRate(perMin) {
    if (perMin === null || perMin === undefined) return '';
    return fmtKB(Math.round(perMin), true) + '/min';
  }

  /* Hex address strings compare by length, then text (no leading zeros). */
  function cmpHex(x, y) {
    return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
  }

  /* A size as snap_parse_size reads it ("4096", "4K", "1.5G", "10MiB"), in
   * bytes; null when it is not one. */
  function parseSize(text) {
    const m = /^(\d+\.?\d*|\.\d+)\s*([kmgt]?)(i?)(b?)$/i.exec(text.trim());
    if (!m || (m[3] && !m[2])) return null;
    const mult = { '': 1, k: 1024, m: 1048576, g: 1073741824, t: 1099511627776 };
    return Math.round(parseFloat(m[1]) * mult[m[2].toLowerCase()]);
  }

  /* fnmatch(3) without flags, as --path uses it: * and ? match any
   * character (/ too), [...] a set ([!...] or [^...] its complement),
   * backslash quotes the next character. */
  function globToRegExp(glob) {
    let re = '^';
    for (let i = 0; i < glob.length; i++) {
      const c = glob[i];
      if (c === '*') re += '[\\s\\S]*';
      else if (c === '?') re += '[\\s\\S]';
      else if (c === '\\' && i + 1 < glob.length) re += escapeRe(glob[++i]);
      else if (c === '[') {
        const end = bracketEnd(glob, i);
        if (end < 0) re += '\\[';
        else {
          re += bracketRe(glob.slice(i + 1, end));
          i = end;
        }
      } else re += escapeRe(c);
    }
    return new RegExp(re + '$');
  }

  function escapeRe(c) {
    return c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  }

  function bracketEnd(glob, open) {
    let j = open + 1;
    if (glob[j] === '!' || glob[j] === '^') j++;
    if (glob[j] === ']') j++;
    for (; j < glob.length; j++) if (glob[j] === ']') return j;
    return -1;
  }

  function bracketRe(body) {
    let neg = false;
    if (body[0] === '!' || body[0] === '^') {
      neg = true;
      body = body.slice(1);
    }
    let out = '';
    for (let k = 0; k < body.length; k++) {
      const c = body[k];
      if (c === '-' && k > 0 && k < body.length - 1) out += '-';
      else out += escapeRe(c);
    }
    return '[' + (neg ? '^' : '') + out + ']';
  }

  function undeleted(path) {
    return path.endsWith(' (deleted)') ? path.slice(0, -10) : path;
  }

  function baseName(path) {
    const p = undeleted(path);
    const slash = p.lastIndexOf('/');
    return slash >= 0 ? p.slice(slash + 1) : p;
  }

  /* The path filter: typed text without * ? or [ matches anywhere in the
   * path; otherwise, and always for a pattern from --path or #glob=, it is
   * a glob matched as --path matches (the path, the path without
   * " (deleted)", or for a glob without / the file name). Anonymous
   * regions never match. */
  function pathMatcher(text, asGlob) {
    if (!text) return null;
    const glob = asGlob || /[*?[]/.test(text) ? text : '*' + text.replace(/\\/g, '\\\\') + '*';
    const re = globToRegExp(glob);
    const byName = glob.indexOf('/') < 0;
    return function (path) {
      if (!path) return false;
      if (re.test(path) || re.test(undeleted(path))) return true;
      return byName && path.indexOf('/') >= 0 && re.test(baseName(path));
    };
  }

  /* ---- state: filters and sort, mirrored in location.hash ---- */

  const state = {
    kinds: null, /* Set of kind indexes, or null for all */
    min: null, /* bytes */
    max: null,
    path: '',
    glob: false, /* path is a --path glob even without wildcards */
    finding: -1,
    change: '',
    sort: 'rss',
    desc: true,
    page: 0,
    region: '', /* start address (hex) of the region whose details are pinned */
  };

  function kindIndexes(list) {
    const out = new Set();
    const bad = [];
    for (const name of list) {
      const names = KIND_GROUPS[name] || [name];
      for (const n of names) {
        const k = KINDS.indexOf(n);
        if (k >= 0) out.add(k);
        else bad.push(name);
      }
    }
    return { set: out, bad: bad };
  }

  function initialFilter() {
    const f = D.filter;
    if (!f) return;
    if (f.kinds) state.kinds = kindIndexes(f.kinds).set;
    state.min = f.min;
    state.max = f.max;
    state.path = f.path || '';
    state.glob = !!f.path;
  }

  function readHash() {
    const errors = [];
    const params = new URLSearchParams(location.hash.replace(/^#/, ''));
    for (const [key, value] of params) {
      if (key === 'kind') {
        const got = kindIndexes(value.split(',').filter((s) => s));
        /* Only unknown names (or none): no kind filter, not an empty page. */
        state.kinds = got.set.size ? got.set : null;
        if (got.bad.length) errors.push('unknown kind ' + got.bad.join(', '));
      } else if (key === 'min' || key === 'max') {
        const bytes = value === '' ? null : parseSize(value);
        if (value !== '' && bytes === null) errors.push(key + ' size "' + value + '"');
        else state[key] = bytes;
      } else if (key === 'path' || key === 'glob') {
        state.path = value;
        state.glob = key === 'glob';
      } else if (key === 'finding') {
        const k = parseInt(value, 10);
        state.finding = Number.isInteger(k) && k >= 0 ? k : -1;
      } else if (key === 'change') {
        if (D.view === 'diff') state.change = value;
      } else if (key === 'sort') {
        /* A '+' in a URL fragment reads as a space. */
        state.desc = value[0] === '-';
        state.sort = value.replace(/^[-+ ]/, '');
      } else if (key === 'page') state.page = Math.max(0, (parseInt(value, 10) || 1) - 1);
      else if (key === 'region') {
        const start = value.toLowerCase().replace(/^0x/, '').replace(/^0+(?=.)/, '');
        if (regions.some((r) => r.a[R.START] === start)) state.region = start;
        else errors.push('no region at ' + value);
      }
    }
    return errors;
  }

  function writeHash() {
    const p = new URLSearchParams();
    if (state.kinds) p.set('kind', [...state.kinds].sort((x, y) => x - y).map((k) => KINDS[k]).join(','));
    if (state.min !== null) p.set('min', String(state.min));
    if (state.max !== null) p.set('max', String(state.max));
    if (state.path) p.set(state.glob ? 'glob' : 'path', state.path);
    if (state.finding >= 0) p.set('finding', String(state.finding));
    if (state.change) p.set('change', state.change);
    if (state.sort !== 'rss' || !state.desc) p.set('sort', (state.desc ? '-' : '') + state.sort);
    if (state.page) p.set('page', String(state.page + 1));
    if (state.region) p.set('region', state.region);
    const hash = p.toString();
    try {
      history.replaceState(null, '', hash ? '#' + hash : location.pathname + location.search);
    } catch (e) {
      /* Some browsers refuse replaceState on file:// URLs: the page
       * still works, the URL just does not follow. */
    }
  }

  /* ---- which regions pass the filters ---- */

  function changeOf(r) {
    const mark = r.a[R.MARK];
    return D.view === 'diff' && mark >= 0 ? D.diff.changes[mark] : null;
  }

  function filteredRegions() {
    const match = pathMatcher(state.path, state.glob);
    const inFinding = findingSet();
    return regions.filter((r) => {
      const a = r.a;
      const bytes = a[R.SIZE] * 1024;
      if (state.kinds && !state.kinds.has(a[R.KIND])) return false;
      if (state.min !== null && bytes < state.min) return false;
      if (state.max !== null && bytes > state.max) return false;
      if (match && !match(a[R.PATH])) return false;
      if (inFinding && !inFinding.has(r.i)) return false;
      if (state.change) {
        const c = changeOf(r);
        const type = c ? c.type : 'unchanged';
        if (state.change === 'changed' ? !c : type !== state.change) return false;
      }
      return true;
    });
  }

  function findingSet() {
    const findings = D.check ? D.check.findings : [];
    if (!(state.finding >= 0 && state.finding < findings.length)) return null;
    return new Set(findings[state.finding].regions);
  }

  /* ---- header ---- */

  function processTitle(s) {
    const p = s.process;
    if (!p) return s.source || 'snapshot';
    return (p.comm || '?') + ' (pid ' + p.pid + ')';
  }

  function fact(label, value) {
    if (value === null || value === undefined || value === '') return null;
    return el('span', null, label + ' ', el('b', null, String(value)));
  }

  function renderHeader() {
    const first = D.snapshots[0];
    const last = D.snapshots[D.snapshots.length - 1];
    const views = { map: 'memory map', diff: 'diff', trend: 'trend' };
    const title = 'mapsnap ' + views[D.view] + ': ' + processTitle(last);
    document.title = title;
    byId('title').textContent = title;
    const facts = byId('process');
    const p = last.process;
    append(facts, [
      fact('exe', p && p.exe),
      fact('command', p && p.argv && p.argv.join(' ')),
      fact('threads', p && p.threads >= 0 ? p.threads : null),
      D.view === 'map' ? fact('captured', last.captured_at) : null,
      D.view !== 'map' ? fact('from', first.captured_at) : null,
      D.view !== 'map' ? fact('to', last.captured_at) : null,
      D.view === 'diff' && first.process && p && first.process.pid !== p.pid
        ? fact('old pid', first.process.pid) : null,
      D.view === 'trend' ? fact('snapshots', D.trend.snapshots) : null,
      fact('host', last.hostname),
      fact('kernel', last.kernel),
      fact('source', last.source),
      fact('input', D.label),
    ]);
    byId('footer').textContent = 'Written by ' + D.tool + (last.tool ? ' from a snapshot by ' + last.tool : '') +
      '. Everything on this page is in the file itself; nothing is fetched.';
  }

  /* ---- totals and kinds ---- */

  const MEASURES = [['Size', R.SIZE], ['Rss', R.RSS], ['Pss', R.PSS], ['Private_Dirty', R.DIRTY], ['Swap', R.SWAP]];

  function sumsOf(list) {
    const total = { regions: 0 };
    const kinds = KINDS.map(() => ({ regions: 0 }));
    for (const [name] of MEASURES) {
      total[name] = 0;
      for (const k of kinds) k[name] = 0;
    }
    for (const r of list) {
      const k = kinds[r.a[R.KIND]];
      total.regions++;
      k.regions++;
      for (const [name, idx] of MEASURES) {
        total[name] += r.a[idx];
        k[name] += r.a[idx];
      }
    }
    return { total: total, kinds: kinds };
  }

  function totalCell(name, value, old) {
    const cell = el('div', { 'data-measure': name }, name + ' ',
      el('span', { class: 'value' }, name === 'regions' ? fmtCount(value) : fmtKB(value)));
    if (old !== undefined) {
      const d = value - old;
      cell.appendChild(el('span', { class: 'delta ' + (d > 0 ? 'up' : d < 0 ? 'down' : '') },
        name === 'regions' ? (d > 0 ? '+' : '') + d : fmtKB(d, true)));
    }
    return cell;
  }

  function renderTotals() {
    const box = byId('totals');
    const here = sumsOf(regions);
    let totals = here.total;
    let kinds = here.kinds;
    let oldTotals = null;
    let oldKinds = null;
    if (D.view === 'diff') {
      totals = D.diff.total_new;
      kinds = D.diff.kind_new;
      oldTotals = D.diff.total_old;
      oldKinds = D.diff.kind_old;
    }
    const row = el('div', { class: 'totals', id: 'totals-row', 'data-regions': totals.regions, 'data-rss': totals.Rss });
    for (const [name] of MEASURES) row.appendChild(totalCell(name, totals[name], oldTotals ? oldTotals[name] : undefined));
    row.appendChild(totalCell('regions', totals.regions, oldTotals ? oldTotals.regions : undefined));
    box.appendChild(row);
    const rollup = D.snapshots[D.snapshots.length - 1].rollup;
    if (rollup && rollup.Rss !== undefined) {
      box.appendChild(el('p', { class: 'note' }, 'smaps_rollup: Rss ' + fmtKB(rollup.Rss) +
        (rollup.Pss !== undefined ? ', Pss ' + fmtKB(rollup.Pss) : '') +
        (rollup.Rss === here.total.Rss ? ' (agrees with the regions)' : ' (the regions add up to ' + fmtKB(here.total.Rss) + ')')));
    }
    if (D.view === 'trend') renderTrendTotals(box);
    renderKindBars(kinds, oldKinds);
  }

  function renderTrendTotals(box) {
    const t = D.trend;
    const rss = t.total.Rss;
    box.appendChild(el('p', { class: 'note' },
      'Over ' + fmtSeconds(t.seconds[t.seconds.length - 1] || 0) + ' and ' + t.snapshots +
      ' snapshots, Rss went ' + fmtKB(rss.growth.first) + ' \u2192 ' + fmtKB(rss.growth.last) +
      ' (' + fmtRate(rss.growth.slope) + ', ' + rss.verdict + '); ' + t.suspects + ' leak suspect' +
      (t.suspects === 1 ? '' : 's') + '.'));
  }

  function renderKindBars(kinds, oldKinds) {
    const box = byId('kinds');
    const order = KINDS.map((name, k) => k)
      .filter((k) => kinds[k].regions > 0 || (oldKinds && oldKinds[k].regions > 0))
      .sort((x, y) => kinds[y].Rss - kinds[x].Rss);
    let max = 1;
    for (const k of order) max = Math.max(max, kinds[k].Rss, oldKinds ? oldKinds[k].Rss : 0);
    const total = order.reduce((s, k) => s + kinds[k].Rss, 0) || 1;
    for (const k of order) {
      const name = KINDS[k];
      const track = el('div', { class: 'bar-track' });
      if (oldKinds) {
        track.appendChild(el('div', { class: 'bar old', style: barStyle(oldKinds[k].Rss / max, name) }));
        track.appendChild(el('div', { class: 'bar new', style: barStyle(kinds[k].Rss / max, name) }));
      } else {
        track.appendChild(el('div', { class: 'bar', style: barStyle(kinds[k].Rss / max, name) }));
      }
      let nums = fmtKB(kinds[k].Rss) + ' \u00b7 ' + Math.round(100 * kinds[k].Rss / total) + '% \u00b7 ' +
        fmtCount(kinds[k].regions);
      if (oldKinds) nums = fmtKB(oldKinds[k].Rss) + ' \u2192 ' + fmtKB(kinds[k].Rss) + ' (' + fmtKB(kinds[k].Rss - oldKinds[k].Rss, true) + ')';
      box.appendChild(el('div', { class: 'kind-row', 'data-kind': name, 'data-rss': kinds[k].Rss, 'data-regions': kinds[k].regions },
        el('span', null, el('span', { class: 'swatch', style: 'background:' + kindColor(name) }), name),
        track, el('span', { class: 'nums' }, nums)));
    }
  }

  function barStyle(share, kind) {
    return 'width:' + Math.max(0, Math.min(100, 100 * share)).toFixed(2) + '%;background:' + kindColor(kind);
  }

  /* ---- findings ---- */

  function renderFindings() {
    const box = byId('findings-list');
    clear(box);
    if (!D.check) {
      box.appendChild(el('p', { class: 'note' }, 'The checks were not run.'));
      return;
    }
    const c = D.check.counts;
    box.setAttribute('data-count', D.check.findings.length);
    box.appendChild(el('p', { class: 'note' }, c.error + ' error' + (c.error === 1 ? '' : 's') + ', ' +
      c.warning + ' warning' + (c.warning === 1 ? '' : 's') + ', ' + c.info + ' info.'));
    if (!D.check.findings.length) box.appendChild(el('p', { class: 'ok' }, 'Nothing looks wrong.'));
    D.check.findings.forEach((f, k) => box.appendChild(findingBox(f, k)));
    for (const s of D.check.skipped) box.appendChild(el('p', { class: 'note' }, 'skipped: ' + s));
  }

  function findingBox(f, k) {
    const button = el('button', { type: 'button' }, state.finding === k ? 'show all regions' : 'show its regions');
    button.addEventListener('click', () => {
      state.finding = state.finding === k ? -1 : k;
      state.page = 0;
      renderFindings();
      update();
    });
    return el('div', {
      class: 'finding sev-' + f.severity + (state.finding === k ? ' active' : ''),
      'data-rule': f.rule, 'data-severity': f.severity, 'data-regions': f.regions.length,
    },
    el('div', null, el('span', { class: 'sev' }, f.severity), el('span', { class: 'rule' }, f.rule)),
    el('div', { class: 'message' }, f.message),
    el('div', { class: 'advice' }, f.advice),
    el('div', { class: 'note' }, f.regions.length + ' region' + (f.regions.length === 1 ? '' : 's') + ', ' +
      fmtKB(f.size_kb) + ' ', f.regions.length ? button : null));
  }

  /* ---- the treemap ---- */

  /* Squarified treemap (Bruls, Huizing, van Wijk): items sorted by value,
   * largest first, laid out in rows whose worst aspect ratio is least. */
  function squarify(items, x, y, w, h) {
    const total = items.reduce((s, it) => s + it.value, 0);
    const out = [];
    if (total <= 0 || w <= 0 || h <= 0) return out;
    const scale = (w * h) / total;
    let i = 0;
    while (i < items.length) {
      const side = Math.min(w, h);
      let sum = 0;
      let min = Infinity;
      let max = 0;
      let worst = Infinity;
      let j = i;
      for (; j < items.length; j++) {
        const a = items[j].value * scale;
        const s2 = sum + a;
        const mn = Math.min(min, a);
        const mx = Math.max(max, a);
        const ratio = Math.max((side * side * mx) / (s2 * s2), (s2 * s2) / (side * side * mn));
        if (ratio > worst) break;
        sum = s2;
        min = mn;
        max = mx;
        worst = ratio;
      }
      const thick = sum / side;
      let offset = 0;
      for (let k = i; k < j; k++) {
        const len = (items[k].value * scale) / thick;
        if (w >= h) out.push({ item: items[k], x: x, y: y + offset, w: thick, h: len });
        else out.push({ item: items[k], x: x + offset, y: y, w: len, h: thick });
        offset += len;
      }
      if (w >= h) {
        x += thick;
        w -= thick;
      } else {
        y += thick;
        h -= thick;
      }
      i = j;
    }
    return out;
  }

  function groupOf(a) {
    const image = a[R.IMAGE];
    if (image >= 0) {
      const im = D.images[image];
      return { key: 'i' + image, label: baseName(im.path) + (im.ordinal ? ' #' + (im.ordinal + 1) : '') };
    }
    const path = a[R.PATH];
    if (!path) return { key: 'anon', label: '(anonymous)' };
    return { key: 'p' + path, label: path.startsWith('[') ? path : baseName(path) };
  }

  /* kind -> group -> regions, the small ones merged. */
  function treemapData(list) {
    const drawn = list.filter((r) => r.rss > 0).sort((x, y) => y.rss - x.rss);
    const kinds = new Map();
    drawn.forEach((r, rank) => {
      let kind = kinds.get(r.kind);
      if (!kind) {
        kind = { kind: r.kind, value: 0, groups: new Map() };
        kinds.set(r.kind, kind);
      }
      const g = groupOf(r.a);
      let group = kind.groups.get(g.key);
      if (!group) {
        group = { label: g.label, value: 0, items: [], other: null, kept: false };
        kind.groups.set(g.key, group);
      }
      kind.value += r.rss;
      group.value += r.rss;
      if (rank < MAX_RECTS) {
        group.items.push({ value: r.rss, region: r });
        group.kept = true;
      } else {
        if (!group.other) group.other = { value: 0, count: 0, group: group };
        group.other.value += r.rss;
        group.other.count++;
      }
    });
    const out = [];
    for (const kind of kinds.values()) out.push({ kind: kind.kind, value: kind.value, groups: mergeGroups(kind) });
    return { kinds: out.sort((x, y) => y.value - x.value), regions: drawn.length };
  }

  /* Groups beyond MAX_GROUPS with no region of their own become one. */
  function mergeGroups(kind) {
    const groups = [...kind.groups.values()].sort((x, y) => y.value - x.value);
    const kept = [];
    let rest = null;
    groups.forEach((g, n) => {
      for (const it of g.items) it.group = g;
      if (g.kept || n < MAX_GROUPS) {
        if (g.other) g.items.push(g.other);
        kept.push(g);
        return;
      }
      if (!rest) {
        rest = { label: 'other groups', value: 0, items: [], other: { value: 0, count: 0 } };
        rest.items.push(rest.other);
        rest.other.group = rest;
        kept.push(rest);
      }
      rest.value += g.value;
      rest.other.value += g.value;
      rest.other.count += g.items.length + (g.other ? g.other.count : 0);
    });
    return kept.sort((x, y) => y.value - x.value);
  }

  function regionColor(r) {
    if (D.view !== 'diff') return kindColor(KINDS[r.kind]);
    const c = changeOf(r);
    if (!c) return CHANGE_COLORS.unchanged;
    if (c.type === 'grown') return growthColor(c.delta.Rss);
    return CHANGE_COLORS[c.type] || CHANGE_COLORS.unchanged;
  }

  /* Redder as the change's Rss grew more, on a log scale up to the
   * largest growth in the diff. */
  let maxGrowth = 1;

  function growthColor(kb) {
    const t = Math.max(0.15, Math.min(1, Math.log2(1 + Math.max(0, kb)) / Math.log2(1 + maxGrowth)));
    const from = [246, 199, 182];
    const to = [192, 57, 43];
    const mix = from.map((v, k) => Math.round(v + (to[k] - v) * t));
    return 'rgb(' + mix.join(',') + ')';
  }

  function fitLabel(text, width) {
    const chars = Math.floor((width - 6) / 6.2);
    if (chars < 3) return null;
    return text.length <= chars ? text : text.slice(0, chars - 1) + '\u2026';
  }

  function drawLabel(svg, text, x, y, w, cls) {
    const fitted = fitLabel(text, w);
    if (fitted) svg.appendChild(svgEl('text', { x: (x + 3).toFixed(1), y: (y + 12).toFixed(1), class: cls }, fitted));
  }

  /* The rectangles that each stand for several small regions. */
  const mergedRects = [];

  function renderTreemap(list) {
    const box = byId('treemap');
    clear(box);
    mergedRects.length = 0;
    const width = Math.max(600, Math.round(box.clientWidth || 1200));
    const height = Math.round(Math.min(560, Math.max(360, width * 0.42)));
    const data = treemapData(list);
    const svg = svgEl('svg', { viewBox: '0 0 ' + width + ' ' + height, width: width, height: height, role: 'img', 'aria-label': 'treemap of Rss' });
    let rects = 0;
    let merged = 0;
    for (const k of squarify(data.kinds, 0, 0, width, height)) {
      const counts = drawKind(svg, k);
      rects += counts.rects;
      merged += counts.merged;
    }
    box.appendChild(svg);
    box.setAttribute('data-regions', data.regions);
    box.setAttribute('data-rects', rects);
    box.setAttribute('data-merged', merged);
    box.setAttribute('data-kinds', data.kinds.length);
    const zero = list.length - data.regions;
    byId('treemap-note').textContent = fmtCount(data.regions) + ' regions with resident memory' +
      (merged ? ', the ' + fmtCount(merged) + ' smallest merged into grey-tinted rectangles per group' : '') +
      (zero ? '; ' + fmtCount(zero) + ' regions with no Rss are not drawn' : '') +
      (D.view === 'diff' ? '. Memory that vanished is listed under Changes.' : '.');
  }

  function drawKind(svg, k) {
    const name = KINDS[k.item.kind];
    const head = k.h > 40 && k.w > 60 ? 16 : 0;
    const counts = { rects: 0, merged: 0 };
    if (head) {
      svg.appendChild(svgEl('rect', { class: 'kind-head', x: k.x, y: k.y, width: k.w, height: head }));
      drawLabel(svg, name + ' ' + fmtKB(k.item.value), k.x, k.y, k.w, 'kind-label');
    }
    /* A kind too small for a border still gets its regions drawn, so
     * the counts below hold. */
    const pad = k.w > 4 && k.h - head > 4 ? 1 : 0;
    for (const g of squarify(k.item.groups, k.x + pad, k.y + head + pad, k.w - 2 * pad, k.h - head - 2 * pad)) {
      const suspects = [];
      for (const cell of squarify(g.item.items, g.x, g.y, g.w, g.h)) {
        svg.appendChild(regionRect(cell, name));
        counts.rects++;
        if (!cell.item.region) counts.merged += cell.item.count;
        else if (D.view === 'trend' && cell.item.region.a[R.MARK] >= 0) suspects.push(cell);
      }
      svg.appendChild(svgEl('rect', { class: 'group-box', x: g.x, y: g.y, width: g.w, height: g.h }));
      /* Outlines go over the group's border, or it would hide them. */
      for (const c of suspects) {
        svg.appendChild(svgEl('rect', { class: 'suspect-box', x: (c.x + 1.5).toFixed(2), y: (c.y + 1.5).toFixed(2),
          width: Math.max(0, c.w - 3).toFixed(2), height: Math.max(0, c.h - 3).toFixed(2) }));
      }
      if (g.h > 28) drawLabel(svg, g.item.label, g.x, g.y, g.w, 'group-label');
    }
    svg.appendChild(svgEl('rect', { class: 'kind-box', x: k.x, y: k.y, width: k.w, height: k.h }));
    return counts;
  }

  function regionRect(cell, kindName) {
    const attrs = {
      x: cell.x.toFixed(2), y: cell.y.toFixed(2), width: Math.max(0, cell.w).toFixed(2), height: Math.max(0, cell.h).toFixed(2),
    };
    const it = cell.item;
    if (it.region) {
      const r = it.region;
      attrs.class = 'region' + (D.view === 'trend' && r.a[R.MARK] >= 0 ? ' suspect' : '');
      attrs.fill = regionColor(r);
      attrs['data-r'] = r.i;
    } else {
      attrs.class = 'region merged';
      attrs.fill = D.view === 'diff' ? CHANGE_COLORS.unchanged : kindColor(kindName);
      attrs['data-m'] = mergedRects.length;
      mergedRects.push({ kind: kindName, group: it.group.label, count: it.count, rss: it.value });
    }
    return svgEl('rect', attrs);
  }

  function renderLegend() {
    const box = byId('legend');
    const items = D.view === 'diff'
      ? Object.keys(CHANGE_COLORS).map((k) => [k, CHANGE_COLORS[k]])
      : KINDS.filter((k, i) => regions.some((r) => r.kind === i)).map((k) => [k, kindColor(k)]);
    for (const [name, color] of items) box.appendChild(el('span', null, el('span', { class: 'swatch', style: 'background:' + color }), name));
    /* Born groups span regions that are not theirs: only suspects that
     * are regions are outlined. */
    if (D.view === 'trend' && regions.some((r) => r.a[R.MARK] >= 0)) box.appendChild(el('span', null, el('span', { class: 'swatch', style: 'background:#fff;border:2px solid #d00' }), 'leak suspect'));
    byId('map-title').textContent = D.view === 'diff'
      ? 'Resident memory (Rss) of the new snapshot, coloured by change'
      : D.view === 'trend' ? 'Resident memory (Rss) in the last snapshot' : 'Resident memory (Rss)';
  }

  /* ---- tables ---- */

  /* A sortable table that shows one page of its rows at a time, so that
   * 60,000 rows cost no more than 100. */
  class PagedTable {
    constructor(box, columns, options) {
      this.box = box;
      this.columns = columns;
      this.options = options || {};
      this.rows = [];
      this.sort = this.options.sort || columns[0].key;
      this.desc = this.options.desc !== undefined ? this.options.desc : true;
      this.page = 0;
    }

    column(key) {
      return this.columns.find((c) => c.key === key) || this.columns[0];
    }

    setRows(rows) {
      const col = this.column(this.sort);
      const dir = this.desc ? -1 : 1;
      const cmp = col.cmp || ((x, y) => {
        const a = col.value(x);
        const b = col.value(y);
        return a < b ? -1 : a > b ? 1 : 0;
      });
      this.rows = rows.slice().sort((x, y) => dir * cmp(x, y) || x.i - y.i);
      const pages = Math.max(1, Math.ceil(this.rows.length / PAGE_SIZE));
      this.page = Math.min(this.page, pages - 1);
      this.render();
    }

    render() {
      clear(this.box);
      const table = el('table', { class: 'grid' });
      const head = el('tr');
      for (const c of this.columns) head.appendChild(this.headerCell(c));
      table.appendChild(el('thead', null, head));
      const body = el('tbody');
      const first = this.page * PAGE_SIZE;
      const shown = this.rows.slice(first, first + PAGE_SIZE);
      for (const row of shown) body.appendChild(this.rowOf(row));
      table.appendChild(body);
      this.box.setAttribute('data-rows', this.rows.length);
      this.box.setAttribute('data-shown', shown.length);
      this.box.setAttribute('data-page', this.page + 1);
      this.box.appendChild(el('div', { class: 'table-wrap' }, table));
      this.box.appendChild(this.pager());
    }

    headerCell(c) {
      const sorted = c.key === this.sort;
      const th = el('th', {
        class: (c.num ? 'num ' : '') + (sorted ? 'sorted' + (this.desc ? '' : ' asc') : ''),
        'data-key': c.key, title: 'sort by ' + c.label,
      }, c.label);
      th.addEventListener('click', () => {
        if (sorted) this.desc = !this.desc;
        else {
          this.sort = c.key;
          this.desc = !!c.num;
        }
        this.page = 0;
        if (this.options.onSort) this.options.onSort(this.sort, this.desc);
        this.setRows(this.rows);
      });
      return th;
    }

    rowOf(row) {
      const tr = el('tr', this.options.rowAttrs ? this.options.rowAttrs(row) : null);
      for (const c of this.columns) {
        const td = el('td', { class: (c.num ? 'num ' : '') + (c.cls || '') });
        const content = c.text(row);
        append(td, [content]);
        tr.appendChild(td);
      }
      return tr;
    }

    pager() {
      const pages = Math.max(1, Math.ceil(this.rows.length / PAGE_SIZE));
      const prev = el('button', { type: 'button', class: 'prev' }, '\u2039 previous');
      const next = el('button', { type: 'button', class: 'next' }, 'next \u203a');
      prev.disabled = this.page === 0;
      next.disabled = this.page >= pages - 1;
      prev.addEventListener('click', () => this.go(this.page - 1));
      next.addEventListener('click', () => this.go(this.page + 1));
      return el('div', { class: 'pager' }, prev,
        'page ' + (this.page + 1) + ' of ' + pages + ' (' + fmtCount(this.rows.length) + ' rows)', next);
    }

    go(page) {
      this.page = page;
      if (this.options.onPage) this.options.onPage(page);
      this.render();
    }
  }

  function num(idx) {
    return (row) => row.a[idx];
  }

  function kbText(idx) {
    return (row) => fmtKB(row.a[idx]);
  }

  function regionColumns() {
    const cols = [
      { key: 'addr', label: 'Address', value: (r) => r.i, cmp: (x, y) => cmpHex(x.a[R.START], y.a[R.START]), cls: 'addr', text: (r) => r.a[R.START] + '-' + r.a[R.END] },
      { key: 'perms', label: 'Perms', value: (r) => r.a[R.PERMS], cls: 'mono', text: (r) => r.a[R.PERMS] },
      { key: 'kind', label: 'Kind', value: (r) => KINDS[r.kind], text: (r) => KINDS[r.kind] },
      { key: 'evidence', label: 'Evidence', value: (r) => evidenceName(r.a[R.EVIDENCE]), cls: 'evidence', text: (r) => evidenceTag(evidenceName(r.a[R.EVIDENCE])) },
      { key: 'size', label: 'Size', num: true, value: num(R.SIZE), text: kbText(R.SIZE) },
      { key: 'rss', label: 'Rss', num: true, value: num(R.RSS), text: kbText(R.RSS) },
      { key: 'pss', label: 'Pss', num: true, value: num(R.PSS), text: kbText(R.PSS) },
      { key: 'dirty', label: 'Private_Dirty', num: true, value: num(R.DIRTY), text: kbText(R.DIRTY) },
      { key: 'swap', label: 'Swap', num: true, value: num(R.SWAP), text: kbText(R.SWAP) },
    ];
    if (D.view === 'diff') {
      cols.push({ key: 'change', label: 'Change', value: (r) => (changeOf(r) ? changeOf(r).type : ''), text: changeTag });
      cols.push({ key: 'delta', label: '\u0394 Rss', num: true, value: (r) => (changeOf(r) ? changeOf(r).delta.Rss : 0), text: (r) => (changeOf(r) ? fmtKB(changeOf(r).delta.Rss, true) : '') });
    }
    if (D.view === 'trend') {
      cols.push({ key: 'trend', label: 'Trend', value: (r) => r.a[R.MARK], text: (r) => (r.a[R.MARK] >= 0 ? el('span', { class: 'tag verdict-steady' }, 'leak suspect') : '') });
    }
    cols.push({ key: 'path', label: 'Path', value: (r) => r.a[R.PATH], cls: 'path', text: (r) => r.a[R.PATH] });
    return cols;
  }

  function evidenceName(index) {
    return EVIDENCE[index] ? EVIDENCE[index].name : '?';
  }

  /* The evidence's name, its sentence in the title. */
  function evidenceTag(name) {
    return el('span', { title: EVIDENCE_BY_NAME[name] || '' }, name);
  }

  function changeTag(r) {
    const c = changeOf(r);
    return c ? el('span', { class: 'tag change-' + c.type }, c.type) : '';
  }

  function regionRowAttrs(r) {
    const c = changeOf(r);
    let cls = c ? 'change-' + c.type : '';
    if (D.view === 'trend' && r.a[R.MARK] >= 0) cls = 'suspect';
    return { 'data-r': r.i, class: cls || null };
  }

  let regionTable = null;

  function renderRegionTable(list) {
    if (!regionTable) {
      regionTable = new PagedTable(byId('regions-table'), regionColumns(), {
        sort: state.sort, desc: state.desc, rowAttrs: regionRowAttrs,
        onSort: (key, desc) => {
          state.sort = key;
          state.desc = desc;
          state.page = 0;
          writeHash();
        },
        onPage: (page) => {
          state.page = page;
          writeHash();
        },
      });
      regionTable.page = state.page;
    }
    regionTable.setRows(list);
    state.page = regionTable.page;
    const count = byId('match-count');
    count.setAttribute('data-count', list.length);
    count.setAttribute('data-total', regions.length);
    const sums = sumsOf(list).total;
    count.textContent = fmtCount(list.length) + ' of ' + fmtCount(regions.length) + ' regions: Size ' +
      fmtKB(sums.Size) + ', Rss ' + fmtKB(sums.Rss) + ', Private_Dirty ' + fmtKB(sums.Private_Dirty) + '.';
  }

  /* ---- filters ---- */

  function renderKindChips() {
    const box = byId('kind-filter');
    clear(box);
    const counts = KINDS.map(() => 0);
    for (const r of regions) counts[r.kind]++;
    KINDS.forEach((name, k) => {
      if (!counts[k]) return;
      const on = state.kinds && state.kinds.has(k);
      const chip = el('button', { type: 'button', class: 'chip' + (on ? ' on' : ''), 'data-kind': name },
        el('span', { class: 'swatch', style: 'background:' + kindColor(name) }), name + ' ' + fmtCount(counts[k]));
      chip.addEventListener('click', () => {
        const set = state.kinds ? new Set(state.kinds) : new Set();
        if (set.has(k)) set.delete(k);
        else set.add(k);
        state.kinds = set.size ? set : null;
        state.page = 0;
        renderKindChips();
        update();
      });
      box.appendChild(chip);
    });
  }

  function sizeText(bytes) {
    if (bytes === null) return '';
    if (bytes % 1073741824 === 0 && bytes) return bytes / 1073741824 + 'G';
    if (bytes % 1048576 === 0 && bytes) return bytes / 1048576 + 'M';
    if (bytes % 1024 === 0 && bytes) return bytes / 1024 + 'K';
    return String(bytes);
  }

  function fillFilterForm() {
    byId('filter-min').value = sizeText(state.min);
    byId('filter-max').value = sizeText(state.max);
    byId('filter-path').value = state.path;
    const sel = byId('filter-finding');
    clear(sel);
    sel.appendChild(el('option', { value: '-1' }, 'any'));
    (D.check ? D.check.findings : []).forEach((f, k) => sel.appendChild(el('option', { value: k }, f.rule + ' (' + f.regions.length + ')')));
    sel.value = String(state.finding);
    if (!D.check || !D.check.findings.length) byId('finding-filter-label').hidden = true;
    if (D.view === 'diff') {
      const ch = byId('filter-change');
      byId('change-filter-label').hidden = false;
      for (const t of ['', 'changed', 'unchanged', 'grown', 'shrunk', 'new', 'duplicated', 'replaced', 'perms']) ch.appendChild(el('option', { value: t }, t || 'any'));
      ch.value = state.change;
    }
  }

  function readFilterForm() {
    const errors = [];
    for (const key of ['min', 'max']) {
      const text = byId('filter-' + key).value.trim();
      const bytes = text === '' ? null : parseSize(text);
      if (text !== '' && bytes === null) errors.push('"' + text + '" is not a size (4K, 10M, 1.5G)');
      else state[key] = bytes;
    }
    const path = byId('filter-path').value;
    if (path !== state.path) state.glob = false;
    state.path = path;
    state.finding = parseInt(byId('filter-finding').value, 10);
    if (D.view === 'diff') state.change = byId('filter-change').value;
    state.page = 0;
    byId('filter-error').textContent = errors.join('; ');
  }

  function wireFilters() {
    let timer = null;
    const form = byId('filters');
    const later = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        readFilterForm();
        renderFindings();
        update();
      }, 150);
    };
    form.addEventListener('input', later);
    form.addEventListener('change', later);
    form.addEventListener('submit', (e) => e.preventDefault());
    byId('filter-reset').addEventListener('click', () => {
      Object.assign(state, { kinds: null, min: null, max: null, path: '', glob: false, finding: -1, change: '', page: 0 });
      fillFilterForm();
      renderKindChips();
      renderFindings();
      byId('filter-error').textContent = '';
      update();
    });
  }

  /* ---- diff: changes ---- */

  function renderChanges() {
    const section = byId('changes');
    section.hidden = false;
    const changes = D.diff.changes.map((c, i) => Object.assign({ i: i }, c));
    const chips = byId('change-filters');
    const byType = {};
    for (const c of changes) byType[c.type] = (byType[c.type] || 0) + 1;
    const table = new PagedTable(byId('changes-table'), changeColumns(), { sort: 'drss', desc: true, rowAttrs: (c) => ({ class: 'change-' + c.type, 'data-c': c.i, 'data-type': c.type }) });
    let only = '';
    const show = () => table.setRows(only ? changes.filter((c) => c.type === only) : changes);
    for (const type of ['', ...Object.keys(byType)]) {
      const chip = el('button', { type: 'button', class: 'chip' + (type === only ? ' on' : ''), 'data-type': type || 'all', 'data-count': type ? byType[type] : changes.length },
        (type || 'all') + ' ' + (type ? byType[type] : changes.length));
      chip.addEventListener('click', () => {
        only = type;
        for (const c of chips.children) c.classList.toggle('on', c === chip);
        show();
      });
      chips.appendChild(chip);
    }
    show();
    const d = D.diff;
    const notes = [(d.by_address ? 'Matched by address (one process seen twice).' : 'Matched by identity (path, name, kind and size; see formats/README.md).'),
      d.hidden ? d.hidden + ' changes under ' + fmtKB(d.min_change_kb) + ' are not listed.' : null,
      d.new_libs ? d.new_libs + ' library images are new.' : null].filter((s) => s);
    section.appendChild(el('p', { class: 'note' }, notes.join(' ')));
    renderDups(section);
  }

  function changeColumns() {
    const side = (c) => (c.old.present ? fmtKB(c.old.sums.Rss) : '\u2013') + ' \u2192 ' + (c.new.present ? fmtKB(c.new.sums.Rss) : '\u2013');
    return [
      { key: 'type', label: 'Change', value: (c) => c.type, text: (c) => el('span', { class: 'tag change-' + c.type }, c.type) },
      { key: 'kind', label: 'Kind', value: (c) => KINDS[c.kind], text: (c) => KINDS[c.kind] },
      { key: 'evidence', label: 'Evidence', value: (c) => c.evidence, cls: 'evidence', text: (c) => evidenceTag(c.evidence) },
      { key: 'drss', label: '\u0394 Rss', num: true, value: (c) => c.delta.Rss, text: (c) => fmtKB(c.delta.Rss, true) },
      { key: 'dsize', label: '\u0394 Size', num: true, value: (c) => c.delta.Size, text: (c) => fmtKB(c.delta.Size, true) },
      { key: 'ddirty', label: '\u0394 Private_Dirty', num: true, value: (c) => c.delta.Private_Dirty, text: (c) => fmtKB(c.delta.Private_Dirty, true) },
      { key: 'rss', label: 'Rss old \u2192 new', num: true, value: (c) => c.new.sums.Rss, text: side },
      { key: 'regions', label: 'Regions', num: true, value: (c) => c.new.nregions, text: (c) => c.old.nregions + ' \u2192 ' + c.new.nregions },
      { key: 'where', label: 'Where', value: (c) => c.where, cls: 'path', text: (c) => c.where },
    ];
  }

  function renderDups(section) {
    const dups = D.diff.dups;
    if (!dups.length) return;
    section.appendChild(el('h3', null, 'Libraries loaded more than once'));
    const list = el('ul', { id: 'dups' });
    for (const dup of dups) {
      const paths = dup.images.map((k) => (D.images[k] ? D.images[k].path : '?'));
      list.appendChild(el('li', { 'data-name': dup.name, class: dup.new_in_new ? 'change-duplicated' : null },
        el('b', null, dup.name), dup.new_in_new ? ' (new in this diff)' : '', ': ', el('span', { class: 'mono' }, paths.join(', '))));
    }
    section.appendChild(list);
  }

  /* ---- trend: charts ---- */

  const LINE_COLORS = ['#c0392b', '#2a62b8', '#2e7d32', '#8e44ad', '#e67e22', '#16a085', '#7f8c8d', '#d4ac0d'];

  function lineChart(title, series, seconds, attrs) {
    const W = 420;
    const H = 150;
    const pad = { l: 52, r: 8, t: 8, b: 20 };
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of series) for (const v of s.values) if (v !== null) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    if (!isFinite(lo)) {
      lo = 0;
      hi = 1;
    }
    if (hi === lo) {
      hi += 1;
      lo = Math.max(0, lo - 1);
    }
    const t0 = seconds[0] || 0;
    const t1 = Math.max(seconds[seconds.length - 1] || 0, t0 + 1e-9);
    const px = (t) => pad.l + ((t - t0) / (t1 - t0)) * (W - pad.l - pad.r);
    const py = (v) => H - pad.b - ((v - lo) / (hi - lo)) * (H - pad.t - pad.b);
    const svg = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H });
    svg.appendChild(svgEl('line', { class: 'axis', x1: pad.l, y1: H - pad.b, x2: W - pad.r, y2: H - pad.b }));
    svg.appendChild(svgEl('line', { class: 'axis', x1: pad.l, y1: pad.t, x2: pad.l, y2: H - pad.b }));
    svg.appendChild(svgEl('text', { x: pad.l - 4, y: pad.t + 8, 'text-anchor': 'end' }, fmtKB(hi)));
    svg.appendChild(svgEl('text', { x: pad.l - 4, y: H - pad.b, 'text-anchor': 'end' }, fmtKB(lo)));
    svg.appendChild(svgEl('text', { x: pad.l, y: H - 4 }, '0s'));
    svg.appendChild(svgEl('text', { x: W - pad.r, y: H - 4, 'text-anchor': 'end' }, fmtSeconds(t1 - t0)));
    series.forEach((s, k) => {
      let d = '';
      let pen = 'M';
      s.values.forEach((v, i) => {
        if (v === null) {
          pen = 'M';
          return;
        }
        d += pen + px(seconds[i]).toFixed(1) + ' ' + py(v).toFixed(1) + ' ';
        pen = 'L';
      });
      const path = svgEl('path', { class: 'line', d: d.trim() || 'M0 0', stroke: s.color || LINE_COLORS[k % LINE_COLORS.length], 'data-name': s.name, 'data-points': s.values.filter((v) => v !== null).length });
      path.appendChild(svgEl('title', null, s.name));
      svg.appendChild(path);
    });
    const legend = series.length > 1
      ? el('div', { class: 'chart-legend' }, ...series.map((s, k) => el('span', null, el('span', { class: 'swatch', style: 'background:' + (s.color || LINE_COLORS[k % LINE_COLORS.length]) }), s.name + ' ')))
      : null;
    return el('figure', Object.assign({ class: 'chart' }, attrs), el('figcaption', null, title), svg, legend);
  }

  function renderTrend() {
    const t = D.trend;
    byId('trend').hidden = false;
    const charts = byId('charts');
    const total = t.total;
    charts.appendChild(lineChart('Total Rss ' + fmtRate(total.Rss.growth.slope) + ' (' + total.Rss.verdict + ')',
      [{ name: 'Rss', values: total.Rss.values }, { name: 'Private_Dirty', values: total.Private_Dirty.values }],
      t.seconds, { 'data-series': 'total' }));
    const suspects = t.regions.slice(0, Math.min(t.suspects, MAX_SUSPECT_CHARTS));
    suspects.forEach((r, k) => {
      charts.appendChild(lineChart('Leak suspect: ' + r.where + ' ' + fmtRate(r.growth[t.measure].slope),
        [{ name: t.measure, values: r.values || [] }], t.seconds, { 'data-series': 'suspect', 'data-index': k }));
    });
    if (t.suspects > suspects.length) charts.appendChild(el('p', { class: 'note' }, (t.suspects - suspects.length) + ' more suspects are in the table below.'));
    const kinds = Object.keys(t.kind_rss).filter((k) => t.kind_rss[k].verdict !== 'flat');
    if (kinds.length) {
      charts.appendChild(lineChart('Rss by kind (the kinds that changed)',
        kinds.map((k) => ({ name: k, values: t.kind_rss[k].values, color: kindColor(k) })), t.seconds, { 'data-series': 'kinds' }));
    }
    renderTrendTable();
  }

  function renderTrendTable() {
    const t = D.trend;
    const rows = t.regions.map((r, i) => Object.assign({ i: i }, r));
    const g = (r) => r.growth[t.measure];
    const table = new PagedTable(byId('trend-table'), [
      { key: 'verdict', label: 'Verdict', value: (r) => r.i, text: (r) => el('span', { class: 'tag verdict-' + r.verdict }, r.verdict) },
      { key: 'kind', label: 'Kind', value: (r) => KINDS[r.kind], text: (r) => KINDS[r.kind] },
      { key: 'slope', label: t.measure + ' slope', num: true, value: (r) => g(r).slope || 0, text: (r) => fmtRate(g(r).slope) },
      { key: 'first', label: 'first \u2192 last', num: true, value: (r) => g(r).last - g(r).first, text: (r) => fmtKB(g(r).first) + ' \u2192 ' + fmtKB(g(r).last) },
      { key: 'max', label: 'max', num: true, value: (r) => g(r).max, text: (r) => fmtKB(g(r).max) },
      { key: 'where', label: 'Where', value: (r) => r.where, cls: 'path', text: (r) => r.where },
    ], { sort: 'verdict', desc: false, rowAttrs: (r) => ({ class: 'verdict-' + r.verdict, 'data-t': r.i, 'data-verdict': r.verdict }) });
    table.setRows(rows);
    const hidden = t.changed - rows.length;
    byId('trend').appendChild(el('p', { class: 'note' }, t.suspects + (t.suspects === 1 ? ' suspect, ' : ' suspects, ') + t.changed + ' regions changed, ' + t.flat +
      ' never did' + (hidden > 0 ? '; ' + hidden + ' of the smallest changes are not listed' : '') + '. Slopes are Theil-Sen, per minute; a suspect grows by at least ' +
      fmtKB(t.min_slope_kb) + '/min and keeps growing.'));
  }

  /* ---- tooltips ---- */

  const tooltip = byId('tooltip');

  function showTooltip(e, content) {
    clear(tooltip);
    append(tooltip, content);
    tooltip.hidden = false;
    const pad = 14;
    const w = tooltip.offsetWidth;
    const h = tooltip.offsetHeight;
    let x = e.clientX + pad;
    let y = e.clientY + pad;
    if (x + w > window.innerWidth) x = Math.max(0, e.clientX - w - pad);
    if (y + h > window.innerHeight) y = Math.max(0, e.clientY - h - pad);
    tooltip.style.left = x + 'px';
    tooltip.style.top = y + 'px';
  }

  function hideTooltip() {
    tooltip.hidden = true;
  }

  function counterRows(a) {
    const layout = D.layouts[a[R.LAYOUT]] || [];
    const rows = [];
    layout.forEach((f, j) => {
      const field = D.fields[f];
      const v = a[R.VALUES][j];
      const text = field.unit === 'kB' ? v + ' kB' : String(v);
      rows.push(el('tr', null, el('td', null, field.name), el('td', { class: 'v' }, text)));
    });
    return el('div', { class: 'tt-cols' }, el('table', null, el('tbody', null, ...rows)));
  }

  /* How many loads each image's path has (images of one path are
   * numbered by ordinal from 0). */
  const loadsOfPath = {};
  for (const im of D.images) loadsOfPath[im.path] = Math.max(loadsOfPath[im.path] || 0, im.ordinal + 1);

  /* What the region is part of: "libc.so.6, load 1 of 1", "bss of
   * /usr/lib/.../libc.so.6", or '' (as show --explain says it). */
  function partOf(a) {
    const image = D.images[a[R.IMAGE]];
    if (image && KINDS[image.kind] !== 'file') {
      return baseName(image.path) + (image.deleted ? ' (deleted)' : '') + ', load ' + (image.ordinal + 1) + ' of ' + loadsOfPath[image.path];
    }
    const owner = D.images[a[R.ATTACHED]];
    return owner ? 'bss of ' + owner.path : '';
  }

  /* Why the region is of its kind: "why: a thread's stack pointer ... is
   * inside it", "why: libc.so.6, load 1 of 1: a file named like ...". */
  function whyText(a) {
    const part = partOf(a);
    const ev = EVIDENCE[a[R.EVIDENCE]];
    return 'why: ' + (part ? part + ': ' : '') + (ev ? ev.about : '?');
  }

  function regionTooltip(r) {
    const a = r.a;
    const out = [
      el('div', { class: 'tt-title' }, a[R.PATH] || '(anonymous)'),
      el('div', { class: 'tt-line' }, a[R.START] + '-' + a[R.END] + ' ' + a[R.PERMS] + ' \u00b7 ' + KINDS[a[R.KIND]] + ' \u00b7 ' + fmtKB(a[R.SIZE])),
      el('div', { class: 'tt-line tt-why', 'data-evidence': EVIDENCE[a[R.EVIDENCE]] ? EVIDENCE[a[R.EVIDENCE]].name : '?' }, whyText(a)),
      el('div', { class: 'tt-line' }, 'offset ' + a[R.OFFSET] + ' \u00b7 dev ' + a[R.DEV] + ' \u00b7 inode ' + a[R.INODE]),
    ];
    const c = changeOf(r);
    if (c) {
      out.push(el('div', { class: 'tt-line' }, c.type + ' ' + KINDS[c.kind] + ': ' + c.where + ' \u00b7 Rss ' + fmtKB(c.delta.Rss, true) +
        ', Size ' + fmtKB(c.delta.Size, true) + ', Private_Dirty ' + fmtKB(c.delta.Private_Dirty, true)));
    } else if (D.view === 'diff') out.push(el('div', { class: 'tt-line' }, 'unchanged'));
    if (D.view === 'trend' && a[R.MARK] >= 0) {
      const s = D.trend.regions[a[R.MARK]];
      out.push(el('div', { class: 'tt-line' }, 'leak suspect: ' + D.trend.measure + ' ' + fmtRate(s.growth[D.trend.measure].slope)));
    }
    out.push(counterRows(a));
    if (a[R.FLAGS] !== null) out.push(el('div', { class: 'tt-line' }, 'VmFlags: ' + a[R.FLAGS]));
    return out;
  }

  function mergedTooltip(agg) {
    return [
      el('div', { class: 'tt-title' }, agg.group),
      el('div', null, fmtCount(agg.count) + ' smaller ' + agg.kind + ' regions, Rss ' + fmtKB(agg.rss) + ' together'),
    ];
  }

  function wireTooltips() {
    document.addEventListener('mouseover', (e) => {
      const target = e.target.closest ? e.target.closest('[data-r],[data-m]') : null;
      if (!target) {
        hideTooltip();
        return;
      }
      if (target.hasAttribute('data-r')) showTooltip(e, regionTooltip(regions[Number(target.getAttribute('data-r'))]));
      else showTooltip(e, mergedTooltip(mergedRects[Number(target.getAttribute('data-m'))]));
    });
    document.addEventListener('scroll', hideTooltip, { passive: true });
  }

  /* ---- a region's details, pinned ---- */

  /* The tooltip of one region, kept on the page (and in the URL) until
   * closed: clicking a row or a rectangle pins it. */
  function renderDetails() {
    const box = byId('region-details');
    clear(box);
    const r = state.region ? regions.find((x) => x.a[R.START] === state.region) : null;
    box.hidden = !r;
    if (!r) return;
    box.setAttribute('data-region', r.i);
    const close = el('button', { type: 'button', class: 'close', title: 'close' }, '\u00d7');
    close.addEventListener('click', () => pinRegion(''));
    box.appendChild(close);
    append(box, regionTooltip(r));
  }

  function pinRegion(start) {
    state.region = start;
    renderDetails();
    writeHash();
  }

  function wirePinning() {
    document.addEventListener('click', (e) => {
      const target = e.target.closest ? e.target.closest('[data-r]') : null;
      if (!target) return;
      const r = regions[Number(target.getAttribute('data-r'))];
      if (r) pinRegion(state.region === r.a[R.START] ? '' : r.a[R.START]);
    });
  }

  /* ---- putting it together ---- */

  function update() {
    const list = filteredRegions();
    renderTreemap(list);
    renderRegionTable(list);
    writeHash();
  }

  function main() {
    document.body.setAttribute('data-view', D.view);
    initialFilter();
    const hashErrors = readHash();
    renderHeader();
    renderTotals();
    renderFindings();
    if (D.view === 'diff') {
      for (const c of D.diff.changes) if (c.type === 'grown') maxGrowth = Math.max(maxGrowth, c.delta.Rss);
      renderChanges();
    }
    if (D.view === 'trend') renderTrend();
    renderLegend();
    renderKindChips();
    fillFilterForm();
    wireFilters();
    wireTooltips();
    wirePinning();
    renderDetails();
    update();
    if (hashErrors.length) byId('filter-error').textContent = 'ignored in the URL: ' + hashErrors.join('; ');
    let resize = null;
    window.addEventListener('resize', () => {
      clearTimeout(resize);
      resize = setTimeout(() => renderTreemap(filteredRegions()), 200);
    });
    document.body.setAttribute('data-parse-ms', (parsedAt - startedAt).toFixed(1));
    document.body.setAttribute('data-draw-ms', (performance.now() - startedAt).toFixed(1));
    document.body.setAttribute('data-ready', '1');
  }

  try {
    main();
  } catch (err) {
    document.body.setAttribute('data-error', String(err && err.message ? err.message : err));
    document.body.insertBefore(el('p', { class: 'error' }, 'The report could not be drawn: ' + String(err)), document.body.firstChild);
    throw err;
  }
}());
