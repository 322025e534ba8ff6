// The JavaScript side of bench/compare.sh: what the browser client does for
// each step, written for Node 20 with no dependencies, as fast as plainly
// written JavaScript allows.
//
//   node bench/js/compare.mjs --captured=page.json --synthetic=page.json \
//     --values=100000 --url=http://127.0.0.1:PORT --token=T --client-id=C \
//     --app=todo --collection=tasks_bulk --expect=100000
//
// Prints one JSON object of results as its last line.

import { readFileSync } from 'node:fs';
import { createCipheriv, createDecipheriv, randomFillSync, webcrypto } from 'node:crypto';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const i = a.indexOf('=');
    return [a.slice(2, i), a.slice(i + 1)];
  }),
);
const quick = args.quick === 'true';

// The browser's guard, as PROTOCOL.md lists it.
function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isValidSyncChange(c) {
  if (!isObject(c)) return false;
  if (typeof c.table !== 'string' || c.table === '') return false;
  if (typeof c.id !== 'string' || c.id === '') return false;
  if (c.op !== 'insert' && c.op !== 'update' && c.op !== 'delete') return false;
  if (c.fields != null) {
    if (!isObject(c.fields)) return false;
    for (const k in c.fields) {
      const f = c.fields[k];
      if (!isObject(f) || !('value' in f)) return false;
      if (f.at != null && typeof f.at !== 'string') return false;
    }
  }
  if (c.data != null && !isObject(c.data)) return false;
  if (c.deletedAt != null && typeof c.deletedAt !== 'string') return false;
  if (c.eventId != null && typeof c.eventId !== 'string') return false;
  if (c.schemaVersion != null && typeof c.schemaVersion !== 'number') return false;
  if (c.actor != null && !isObject(c.actor)) return false;
  if (c.origin != null && typeof c.origin !== 'string') return false;
  return true;
}

// A page as the browser reads it: JSON.parse, the envelope, then the guard
// on each change (keeping the valid ones).
function readPage(text) {
  const page = JSON.parse(text);
  if (!isObject(page) || !Array.isArray(page.serverChanges) || typeof page.syncedUntil !== 'string') {
    throw new Error('bad page');
  }
  const kept = page.serverChanges.filter(isValidSyncChange);
  return { changes: kept, syncedUntil: page.syncedUntil, hasMore: page.hasMore === true };
}

function best(rounds, minMs, f) {
  let bestS = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    let n = 0;
    let el = 0;
    do {
      f();
      n++;
      el = Number(process.hrtime.bigint() - t0) / 1e6;
    } while (el < minMs);
    bestS = Math.min(bestS, el / 1e3 / n);
  }
  return bestS;
}

async function bestAsync(rounds, f) {
  let bestS = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    await f();
    bestS = Math.min(bestS, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return bestS;
}

function pageBody(path) {
  const text = readFileSync(path, 'utf8');
  return text;
}

function decodeMBs(path) {
  const body = pageBody(path);
  const bytes = Buffer.byteLength(body);
  let sink = 0;
  const secs = best(5, quick ? 100 : 400, () => {
    sink += readPage(body).changes.length;
  });
  if (sink === 0) throw new Error('nothing decoded');
  return bytes / secs / 1e6;
}

// enc:1: as the browser writes it.
const PREFIX = 'enc:1:';
const values = [];
for (let i = 0; i < Number(args.values ?? 100000); i++) {
  values.push(`${String(i).padStart(8, '0')} Steuererklärung 2026: Belege sammeln, Termin mit Anna – ${'x'.repeat(120)}`);
}
const rawKey = new Uint8Array(32).fill(7);

async function webcryptoPerS() {
  const subtle = webcrypto.subtle;
  const key = await subtle.importKey('raw', rawKey, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const encrypt = async (value) => {
    if (value === null || value === undefined) return value;
    const iv = webcrypto.getRandomValues(new Uint8Array(12));
    const ct = await subtle.encrypt({ name: 'AES-GCM', iv }, key, enc.encode(JSON.stringify(value)));
    return `${PREFIX}${Buffer.from(iv).toString('base64')}.${Buffer.from(ct).toString('base64')}`;
  };
  const decrypt = async (wire) => {
    if (typeof wire !== 'string' || !wire.startsWith(PREFIX)) return wire;
    const [ivB64, ctB64] = wire.slice(PREFIX.length).split('.');
    const pt = await subtle.decrypt(
      { name: 'AES-GCM', iv: Buffer.from(ivB64, 'base64') },
      key,
      Buffer.from(ctB64, 'base64'),
    );
    return JSON.parse(dec.decode(pt));
  };
  const secs = await bestAsync(quick ? 1 : 3, async () => {
    for (const v of values) {
      const back = await decrypt(await encrypt(v));
      if (back.length !== v.length) throw new Error('round trip');
    }
  });
  return values.length / secs;
}

function nodeCryptoPerS() {
  const key = Buffer.from(rawKey);
  const iv = Buffer.alloc(12);
  const encrypt = (value) => {
    if (value === null || value === undefined) return value;
    randomFillSync(iv);
    const c = createCipheriv('aes-256-gcm', key, iv);
    const ct = Buffer.concat([c.update(JSON.stringify(value), 'utf8'), c.final(), c.getAuthTag()]);
    return `${PREFIX}${iv.toString('base64')}.${ct.toString('base64')}`;
  };
  const decrypt = (wire) => {
    if (typeof wire !== 'string' || !wire.startsWith(PREFIX)) return wire;
    const dot = wire.indexOf('.', PREFIX.length);
    const ivBuf = Buffer.from(wire.slice(PREFIX.length, dot), 'base64');
    const sealed = Buffer.from(wire.slice(dot + 1), 'base64');
    const d = createDecipheriv('aes-256-gcm', key, ivBuf);
    d.setAuthTag(sealed.subarray(sealed.length - 16));
    const pt = Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]);
    return JSON.parse(pt.toString('utf8'));
  };
  const secs = best(quick ? 1 : 3, 1, () => {
    for (const v of values) {
      const back = decrypt(encrypt(v));
      if (back.length !== v.length) throw new Error('round trip');
    }
  });
  return values.length / secs;
}

// Pull-all: a fetch loop following hasMore, collecting the changes (what
// the browser's pull does before it applies them).
async function pullAll() {
  const headers = { authorization: `Bearer ${args.token}`, 'x-client-id': args['client-id'] };
  let since = '1970-01-01T00:00:00.000Z';
  const all = [];
  for (;;) {
    const url = `${args.url}/sync/${encodeURIComponent(args.app)}/pull?collection=${encodeURIComponent(args.collection)}&since=${encodeURIComponent(since)}`;
    const res = await fetch(url, { headers });
    if (!res.ok) throw new Error(`pull: ${res.status}`);
    const page = readPage(await res.text());
    for (const c of page.changes) all.push(c);
    if (!page.hasMore) break;
    since = page.syncedUntil;
  }
  return all;
}

async function pullAllCost() {
  const expect = Number(args.expect);
  const first = await pullAll();
  if (first.length !== expect) throw new Error(`pulled ${first.length}, expected ${expect}`);
  let cpu = Infinity;
  let wall = Infinity;
  for (let r = 0; r < (quick ? 2 : 5); r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const all = await pullAll();
    wall = Math.min(wall, Number(process.hrtime.bigint() - t0) / 1e9);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1e6);
    if (all.length !== expect) throw new Error('short pull');
  }
  global.gc?.();
  const h0 = process.memoryUsage().heapUsed;
  const held = await pullAll();
  global.gc?.();
  const heap = (process.memoryUsage().heapUsed - h0) / (1024 * 1024);
  return { cpu, wall, heap, n: held.length };
}

const out = {};
out.decode_captured_mb_s = decodeMBs(args.captured);
out.decode_synthetic_mb_s = decodeMBs(args.synthetic);
out.enc_node_crypto_per_s = nodeCryptoPerS();
out.enc_webcrypto_per_s = await webcryptoPerS();
if (args.url) {
  const p = await pullAllCost();
  out.pull_all_cpu_s = p.cpu;
  out.pull_all_wall_s = p.wall;
  out.pull_all_heap_mib = p.heap;
}
out.node = process.version;
console.log(JSON.stringify(out));
