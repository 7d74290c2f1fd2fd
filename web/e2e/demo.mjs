// Screenshots of every page with `elasticpool seed-demo` data (the installation
// a newcomer sees after `make seed-demo` + run now), in Chinese and a few in
// English, into web/test-output/screenshots/demo/. It also checks that no page
// shows an error state or throws: the flow in run.mjs covers behaviour; this
// covers the pages with realistic volume (several clusters, pools, orders).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runner, shotDir, start, TOKEN } from './harness.mjs';

const dir = join(shotDir, 'demo');
mkdirSync(dir, { recursive: true });
const T = runner();
const env = await start({ seedDemo: true });
const { page, api, base } = env;
const ctx = {};

async function settle() {
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.waitForFunction(() => !document.querySelector('.ant-spin-spinning, [data-testid=loading-state]'), null, { timeout: 15_000 }).catch(() => {});
  await page.waitForTimeout(400); // animations
}

async function shot(file) {
  await page.mouse.move(0, 0);
  await settle();
  await page.screenshot({ path: join(dir, `${file}.png`), fullPage: true });
}

/** Visits path, waits for its heading, refuses an error state, takes the picture. */
async function pageShot(file, path, heading = '.page-header h2, .ant-card-head-title') {
  await page.goto(`${base}${path}`);
  await settle();
  await page.locator(heading).first().waitFor();
  const errors = await page.getByTestId('error-state').allInnerTexts();
  if (errors.length) throw new Error(`${path} shows an error: ${errors.join(' | ')}`);
  await shot(file);
}

/** Monday 00:00 of this week in Asia/Shanghai (the server's TIMEZONE), as YYYY-MM-DD. */
function thisMonday() {
  const now = new Date(Date.now() + 8 * 3600_000);
  const dow = (now.getUTCDay() + 6) % 7;
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - dow)).toISOString().slice(0, 10);
}

try {
  await T.test('demo data: someone on duty, run now, a maintenance request', async () => {
    await api.post('/duty-roster', { weekStart: thisMonday(), person: 'e2e-admin', email: 'oncall@example.com', phone: '', chatId: '' });
    await api.post('/evaluations', {});
    const deadline = Date.now() + 60_000;
    let orders;
    while (Date.now() < deadline) {
      orders = await api.get('/elastic-scaling/orders?status=pending');
      if (orders.items?.length >= 2) break;
      await page.waitForTimeout(500);
    }
    if (!orders.items?.length) throw new Error('run now opened no order on the demo data');
    ctx.order = orders.items[0];
    const inPool = await api.get('/devices?status=in_pool&limit=1');
    ctx.maint = await api.signed('POST', '/maintenance/requests', {
      hostname: inPool.items[0].hostname,
      externalTicketId: 'CHG-2048',
      reason: 'replace DIMM B2 (ECC errors)',
    });
    const strategies = await api.get('/elastic-scaling/strategies');
    ctx.strategy = strategies.items[0];
    const templates = await api.get('/device-query/templates');
    ctx.template = templates.items[0];
  });

  await T.test('sign in', async () => {
    await page.goto(`${base}/`);
    await page.getByTestId('login-token').fill(TOKEN);
    await page.getByTestId('login-submit').click();
    await page.getByRole('heading', { name: '工作台' }).waitFor();
  });

  const pages = [
    ['01-workbench', '/'],
    ['02-orders', '/orders'],
    ['03-order-detail', () => `/orders/${ctx.order.id}`],
    ['04-strategies', '/strategies'],
    ['05-strategy-edit', () => `/strategies/${ctx.strategy.id}`],
    ['06-templates', '/templates'],
    ['06-template-edit', () => `/templates/${ctx.template.id}`],
    ['07-policies', '/policies'],
    ['08-devices', '/devices'],
    ['09-clusters', '/clusters'],
    ['10-history', '/history'],
    ['11-maintenance', '/maintenance'],
    ['12-duty', '/duty'],
    ['13-audit', '/audit'],
  ];
  for (const [file, path] of pages)
    await T.test(`demo page ${typeof path === 'string' ? path : file}`, async () => {
      await pageShot(file, typeof path === 'string' ? path : path());
    });

  await T.test('demo: the bell lists the notifications', async () => {
    await page.goto(`${base}/`);
    await settle();
    await page.getByTestId('notification-bell').click();
    await page.locator('.ant-popover .ant-list-item').first().waitFor();
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(dir, '15-notifications.png') });
    await page.keyboard.press('Escape');
  });

  await T.test('demo pages in English', async () => {
    await page.goto(`${base}/`);
    await settle();
    await page.getByTestId('lang-toggle').click();
    await page.getByRole('heading', { name: 'Workbench' }).waitFor();
    await shot('20-workbench-en');
    await pageShot('21-order-detail-en', `/orders/${ctx.order.id}`);
    await pageShot('22-maintenance-en', '/maintenance');
    await pageShot('23-strategies-en', '/strategies');
    await pageShot('24-history-en', '/history');
    await page.getByTestId('lang-toggle').click();
  });

  await T.test('no uncaught page errors', async () => {
    if (env.consoleErrors.length) throw new Error(env.consoleErrors.join('\n'));
  });
} finally {
  await env.stop();
}
console.log(`[e2e] demo screenshots in ${dir}`);
process.exit(T.summary() ? 1 : 0);
