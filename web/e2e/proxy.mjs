// End-to-end behind a trusted authentication proxy: the server runs with
// AUTH_PROXY_HEADER / AUTH_PROXY_ROLE_HEADER set, and a tiny Node proxy in
// front of it names the user in those headers, as oauth2-proxy or a company
// SSO gateway would. The browser has no token: the workbench must load signed
// in as the proxy's user with its role, and offer no sign-out (the proxy owns
// the session). The same server reached directly (no proxy headers) still
// shows the token sign-in page.
import http from 'node:http';
import { join } from 'node:path';
import { freePort, runner, shotDir, start } from './harness.mjs';

const USER_HEADER = 'X-Forwarded-User';
const ROLE_HEADER = 'X-Forwarded-Role';
const PROXY_USER = 'e2e-proxy-op';
const PROXY_ROLE = 'operator';

const T = runner();
const env = await start({
  env: { AUTH_PROXY_HEADER: USER_HEADER, AUTH_PROXY_ROLE_HEADER: ROLE_HEADER },
  logName: 'e2e-proxy-server.log',
});
const { page, base } = env;
const target = new URL(base);

// The proxy drops whatever identity headers the client sent (the server trusts
// them, so only the proxy may set them) and adds its own.
const proxy = http.createServer((req, res) => {
  const headers = { ...req.headers, host: target.host };
  delete headers[USER_HEADER.toLowerCase()];
  delete headers[ROLE_HEADER.toLowerCase()];
  headers[USER_HEADER.toLowerCase()] = PROXY_USER;
  headers[ROLE_HEADER.toLowerCase()] = PROXY_ROLE;
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
} finally {
  await env.stop(); // closes the browser first, so no keep-alive connection holds the proxy open
  proxy.closeAllConnections();
  await new Promise((r) => proxy.close(r));
}
console.log(`[e2e] screenshots in ${shotDir}`);
process.exit(T.summary() ? 1 : 0);
