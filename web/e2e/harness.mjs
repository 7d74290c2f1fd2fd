// The e2e harness: builds the Go binary, serves it on a free port against a
// fresh database with a fixed token, and drives Debian's Chromium through
// playwright-core. It installs nothing: scripts/chromium.sh does (make e2e).
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, mkdtempSync, openSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHmac, randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';

export const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const rootDir = resolve(webDir, '..');
export const outDir = join(webDir, 'test-output');
export const shotDir = join(outDir, 'screenshots');
export const TOKEN = 'e2e-admin-token';
// A read-only user: the UI must offer them no mutation (run.mjs signs in with it).
export const VIEWER_TOKEN = 'e2e-viewer-token';
// The external system that asks for maintenance (docs/maintenance.md §3): it
// signs its calls with this secret (MAINTENANCE_SYSTEMS).
export const MAINT_SYSTEM = 'itsm';
const MAINT_SECRET = 'e2e-itsm-secret-local-only';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PG = process.env.E2E_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';

function log(...a) {
  console.log('[e2e]', ...a);
}

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

function psql(db, sql) {
  execFileSync('psql', [`${PG}/${db}`, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { stdio: ['ignore', 'pipe', 'inherit'] });
}

async function waitReady(base, server, ms = 90_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}; see ${join(outDir, 'e2e-*server.log')}`);
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${base}/readyz not ready after ${ms} ms`);
}

/**
 * Starts everything; returns {base, api, page, context, stop}. With seedDemo
 * the database is loaded with `elasticpool seed-demo` before the server starts;
 * env adds to (or overrides) the server's environment, logName names its log.
 */
export async function start({ seedDemo = false, env: extraEnv = {}, logName: logFile } = {}) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/chromium.sh (make -C web e2e does)`);
  if (!existsSync(join(webDir, 'dist', 'index.html'))) throw new Error('web/dist is not built: run make -C web build');
  mkdirSync(shotDir, { recursive: true });

  const bin = join(outDir, 'e2e-bin', 'elasticpool');
  log('building the Go binary');
  execFileSync('go', ['build', '-o', bin, './cmd/elasticpool'], { cwd: rootDir, stdio: 'inherit' });

  const db = `elasticpool_e2e_${randomBytes(4).toString('hex')}`;
  log('creating database', db);
  psql('postgres', `CREATE DATABASE ${db}`);

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    PORT: String(port),
    DATABASE_URL: `${PG}/${db}?sslmode=disable`,
    REDIS_PREFIX: `elasticpool-${db}:`,
    AUTH_TOKENS: `${TOKEN}=e2e-admin:admin,${VIEWER_TOKEN}=e2e-viewer:viewer`,
    MAINTENANCE_SYSTEMS: `${MAINT_SYSTEM}=${MAINT_SECRET}`,
    UI_STATIC_DIR: join(webDir, 'dist'),
    UI_BASE_URL: base,
    TIMEZONE: 'Asia/Shanghai',
    ELASTICPOOL_ENV: 'local',
    ...extraEnv,
  };
  const logName = logFile ?? (seedDemo ? 'e2e-demo-server.log' : 'e2e-server.log');
  if (seedDemo) {
    log('loading demo data (elasticpool seed-demo)');
    try {
      execFileSync(bin, ['seed-demo'], { cwd: rootDir, env, stdio: ['ignore', 'ignore', 'inherit'] });
    } catch (e) {
      psql('postgres', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      throw e;
    }
  }
  const logFd = openSync(join(outDir, logName), 'w');
  const server = spawn(bin, ['run'], { cwd: rootDir, stdio: ['ignore', logFd, logFd], env });
  let browserContext;
  const userDataDir = mkdtempSync(join(tmpdir(), 'elasticpool-e2e-chromium-'));
  const stop = async () => {
    await browserContext?.close().catch(() => {});
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          server.kill('SIGKILL');
          r();
        }, 15_000);
        server.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
    try {
      psql('postgres', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      log('dropped database', db);
    } catch (e) {
      log('could not drop', db, e.message);
    }
    rmSync(userDataDir, { recursive: true, force: true });
  };
  try {
    await waitReady(base, server);
    log('server ready at', base);
    browserContext = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
      viewport: { width: 1440, height: 900 },
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    const page = browserContext.pages()[0] ?? (await browserContext.newPage());
    page.setDefaultTimeout(15_000);
    const consoleErrors = [];
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    return { base, api: apiClient(base), page, context: browserContext, stop, consoleErrors };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** A small API client for fixtures (what a CMDB or collector would send). */
export function apiClient(base) {
  const call = async (method, path, body, headers = {}) => {
    const r = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await r.text();
    const data = text ? JSON.parse(text) : undefined;
    if (!r.ok) throw new Error(`${method} ${path} → ${r.status}: ${text.slice(0, 500)}`);
    return data;
  };
  return {
    get: (p) => call('GET', p),
    post: (p, b) => call('POST', p, b),
    put: (p, b) => call('PUT', p, b),
    /** A call signed as the external system (HMAC-SHA256 of "<timestamp>.<body>"), no bearer token. */
    signed: async (method, p, body) => {
      const text = body === undefined ? '' : JSON.stringify(body);
      const ts = Math.floor(Date.now() / 1000);
      const sig = createHmac('sha256', MAINT_SECRET).update(`${ts}.${text}`).digest('hex');
      const r = await fetch(`${base}/api/v1${p}`, {
        method,
        headers: {
          'X-Elasticpool-System': MAINT_SYSTEM,
          'X-Elasticpool-Timestamp': String(ts),
          'X-Elasticpool-Signature': `v1=${sig}`,
          ...(text ? { 'Content-Type': 'application/json' } : {}),
        },
        body: text || undefined,
      });
      const out = await r.text();
      if (!r.ok) throw new Error(`signed ${method} ${p} → ${r.status}: ${out.slice(0, 500)}`);
      return out ? JSON.parse(out) : undefined;
    },
  };
}

/** A tiny sequential runner that prints one line per test and "N passed, N failed". */
export function runner() {
  const results = [];
  return {
    async test(name, fn) {
      const t0 = Date.now();
      try {
        await fn();
        results.push({ name, ok: true });
        log(`ok   ${name} (${Date.now() - t0} ms)`);
      } catch (e) {
        results.push({ name, ok: false, error: e });
        log(`FAIL ${name} (${Date.now() - t0} ms)\n${e?.stack ?? e}`);
      }
    },
    summary() {
      const passed = results.filter((r) => r.ok).length;
      const failed = results.length - passed;
      console.log(`${passed} passed, ${failed} failed`);
      return failed;
    },
  };
}
