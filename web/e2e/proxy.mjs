// End-to-end behind a trusted authentication proxy: the server runs with
// AUTH_PROXY_HEADER / AUTH_PROXY_ROLE_HEADER / AUTH_PROXY_SECRET set, and a
// tiny Node proxy in front of it names the user in those headers (proving
// itself with the secret), as oauth2-proxy or a company SSO gateway would.
// The browser has no token: the workbench must load signed in as the proxy's
// user with its role, and offer no sign-out (the proxy owns the session). The
// same server reached directly (no proxy headers) still shows the token
// sign-in page, and identity headers forged by a direct client are refused.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOKEN, freePort, outDir, runner, shotDir, start } from './harness.mjs';

const USER_HEADER = 'X-Forwarded-User';
const ROLE_HEADER = 'X-Forwarded-Role';
const SECRET_HEADER = 'X-Auth-Proxy-Secret';
const PROXY_SECRET = randomBytes(24).toString('hex');
const PROXY_USER = 'e2e-proxy-op';
const PROXY_ROLE = 'operator';
const LOG_NAME = 'e2e-proxy-server.log';

const T = runner();
const env = await start({
  env: { AUTH_PROXY_HEADER: USER_HEADER, AUTH_PROXY_ROLE_HEADER: ROLE_HEADER, AUTH_PROXY_SECRET: PROXY_SECRET },
  logName: LOG_NAME,
});
const { page, base } = env;
const target = new URL(base);

// The proxy drops whatever identity headers (and secret) the client sent and
// adds its own, with the secret that makes the server honour them.
const proxy = http.createServer((req, res) => {
  const headers = { ...req.headers, host: target.host };
  for (const h of [USER_HEADER, ROLE_HEADER, SECRET_HEADER]) delete headers[h.toLowerCase()];
  headers[USER_HEADER.toLowerCase()] = PROXY_USER;
  headers[ROLE_HEADER.toLowerCase()] = PROXY_ROLE;
  headers[SECRET_HEADER.toLowerCase()] = PROXY_SECRET;
  const up = http.request({ hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on('error', (e) => {
    if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
    res.end(`proxy: ${e.message}`);
  });
  req.pipe(up);
});
const proxyPort = await freePort();
await new Promise((r) => proxy.listen(proxyPort, '127.0.0.1', r));
const proxied = `http://127.0.0.1:${proxyPort}`;
console.log('[e2e] auth proxy at', proxied, '→', base);

async function settle() {
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.waitForFunction(() => !document.querySelector('.ant-spin-spinning, [data-testid=loading-state]'), null, { timeout: 15_000 }).catch(() => {});
  await page.waitForTimeout(300); // animations
}

async function shot(file) {
  await page.mouse.move(0, 0);
  await settle();
  await page.screenshot({ path: join(shotDir, `${file}.png`), fullPage: true });
}

try {
  await T.test('through the proxy, /me names the proxy user (no token)', async () => {
    const r = await fetch(`${proxied}/api/v1/me`);
    const me = await r.json();
    if (r.status !== 200 || me.subject !== PROXY_USER || me.role !== PROXY_ROLE || me.authMethod !== 'proxy')
      throw new Error(`GET /me through the proxy → ${r.status} ${JSON.stringify(me)}`);
  });

  await T.test('reached directly, forged identity headers are refused (401), with or without a guessed secret', async () => {
    const forged = { [USER_HEADER]: 'mallory', [ROLE_HEADER]: 'admin' };
    for (const [what, headers] of [
      ['no secret', forged],
      ['a wrong secret', { ...forged, [SECRET_HEADER]: 'guessed-secret' }],
      // The sender of a forged identity is not the proxy, whatever token it also shows.
      ['a valid bearer token', { ...forged, Authorization: `Bearer ${TOKEN}` }],
    ]) {
      const r = await fetch(`${base}/api/v1/me`, { headers });
      const body = await r.text();
      if (r.status !== 401) throw new Error(`GET /me directly with forged headers and ${what} → ${r.status} ${body}`);
      if (body.includes('mallory') || body.includes('guessed-secret')) throw new Error(`the 401 echoes a header: ${body}`);
    }
  });

  await T.test('reached directly, bearer tokens still work', async () => {
    const r = await fetch(`${base}/api/v1/me`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    const me = await r.json();
    if (r.status !== 200 || me.subject !== 'e2e-admin' || me.authMethod !== 'token')
      throw new Error(`GET /me with the bearer token → ${r.status} ${JSON.stringify(me)}`);
  });

  await T.test('the same server reached directly shows the token sign-in page', async () => {
    await page.goto(`${base}/`);
    await page.getByTestId('login-token').waitFor();
    if (await page.getByTestId('login-error').count()) throw new Error('the sign-in page reports a rejected token');
  });

  await T.test('through the proxy the workbench loads signed in as the proxy user, without sign-out', async () => {
    await page.goto(`${proxied}/`);
    await page.getByRole('heading', { name: '工作台' }).waitFor();
    await page.getByTestId('me-subject').getByText(PROXY_USER).waitFor();
    await page.getByTestId('me-role').getByText('操作员').waitFor();
    await page.getByTestId('proxy-session').getByText('经认证代理登录').waitFor();
    if (await page.getByTestId('sign-out').count()) throw new Error('sign-out is offered in a proxy session');
    if (await page.getByTestId('login-token').count()) throw new Error('the token sign-in page is shown');
    const stored = await page.evaluate(() => localStorage.getItem('elasticpool.token'));
    if (stored) throw new Error(`a token was stored: ${stored}`);
    await settle();
    const errors = await page.getByTestId('error-state').allInnerTexts();
    if (errors.length) throw new Error(`the workbench shows errors: ${errors.join(' | ')}`);
    await shot('16-workbench-proxy');
    // The hint in place of sign-out says where to sign out.
    await page.getByTestId('proxy-session').hover();
    await page.locator('.ant-tooltip', { hasText: '请通过认证代理退出登录' }).waitFor();
    await page.waitForTimeout(300); // the tooltip's animation
    await page.screenshot({ path: join(shotDir, '16-workbench-proxy-hint.png') });
  });

  await T.test('the proxy role reaches the pages: an operator may create a strategy', async () => {
    await page.goto(`${proxied}/strategies`);
    const create = page.getByTestId('strategy-create');
    await create.waitFor();
    if (await create.isDisabled()) throw new Error('the operator from the proxy may not create a strategy');
  });

  await T.test('no uncaught page errors', async () => {
    if (env.consoleErrors.length) throw new Error(env.consoleErrors.join('\n'));
  });

  await T.test('the server log warns of the forged headers without their values or the secret', async () => {
    const log = readFileSync(join(outDir, LOG_NAME), 'utf8');
    if (!log.includes('without a valid proxy secret')) throw new Error('no warning about the forged identity headers');
    for (const leak of [PROXY_SECRET, 'guessed-secret', 'mallory'])
      if (log.includes(leak)) throw new Error(`the server log contains ${leak === PROXY_SECRET ? 'the proxy secret' : leak}`);
  });
} finally {
  await env.stop(); // closes the browser first, so no keep-alive connection holds the proxy open
  proxy.closeAllConnections();
  await new Promise((r) => proxy.close(r));
}
console.log(`[e2e] screenshots in ${shotDir}`);
process.exit(T.summary() ? 1 : 0);
