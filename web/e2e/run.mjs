// End-to-end: the capacity owner's and the on-duty SRE's flow through the UI
// against a real server (make run's binary) on a fresh database:
//   create template → policy → strategy → load snapshots → run evaluation →
//   order appears on the workbench → execute → complete,
// the on-duty person's notification bell, an external system's maintenance
// request confirmed and completed in the UI (→ uncordon order), plus a
// screenshot of every page in web/test-output/screenshots/. A viewer's token
// gets no mutation buttons; a revoked stored token lands on sign-in with why.
import { join } from 'node:path';
import { runner, shotDir, start, TOKEN, VIEWER_TOKEN } from './harness.mjs';

const T = runner();
const env = await start();
const { page, api, base } = env;
const ids = {};
const name = (s) => `e2e-${s}`;

async function settle() {
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.waitForFunction(() => !document.querySelector('.ant-spin-spinning, [data-testid=loading-state]'), null, { timeout: 15_000 }).catch(() => {});
  await page.waitForTimeout(300); // animations
}

async function shot(file) {
  await page.mouse.move(0, 0); // no hover tooltips in the picture
  await settle();
  await page.screenshot({ path: join(shotDir, `${file}.png`), fullPage: true });
}

async function visit(path) {
  await page.goto(`${base}${path}`);
  await settle();
}

/** Opens the antd Select with data-testid and picks the option with the text. */
async function pick(testId, text) {
  await page.locator(`[data-testid="${testId}"]`).click();
  await page.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option', { hasText: text }).first().click();
}

/** Signs out (when signed in) and back in with token. */
async function signIn(token) {
  await visit('/');
  const out = page.getByTestId('sign-out');
  if (await out.count()) await out.click();
  await page.getByTestId('login-token').fill(token);
  await page.getByTestId('login-submit').click();
  await page.getByRole('heading', { name: '工作台' }).waitFor();
}

async function closeModal() {
  await page.locator('.ant-modal-footer button').last().click();
  await page.locator('.ant-modal-wrap').waitFor({ state: 'hidden' }).catch(() => {});
}

function daysAgo(n) {
  // Noon in Asia/Shanghai (the server's TIMEZONE) n days ago.
  const now = new Date(Date.now() + 8 * 3600_000);
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - n, 4, 0, 0));
  return d.toISOString();
}

try {
  await T.test('sign in with a token (zh-CN by default)', async () => {
    await visit('/');
    await page.getByTestId('login-token').waitFor();
    await shot('00-login');
    await page.getByTestId('login-token').fill('wrong-token');
    await page.getByTestId('login-submit').click();
    await page.getByText('令牌无效或无权限').waitFor();
    await page.getByTestId('login-token').fill(TOKEN);
    await page.getByTestId('login-submit').click();
    await page.getByRole('heading', { name: '工作台' }).waitFor();
    await page.getByTestId('me-role').getByText('管理员').waitFor();
    await page.getByTestId('me-subject').getByText('e2e-admin').waitFor();
  });

  await T.test('inventory fixtures: cluster, pool, idle devices (as a CMDB would send them)', async () => {
    const c = await api.post('/clusters', { name: name('bj-1'), displayName: 'E2E 北京一区', region: 'cn-north', idc: 'bj1' });
    ids.cluster = c.id;
    const p = await api.post(`/clusters/${c.id}/pools`, { name: 'general', poolType: 'general', nodeSelector: 'pool=general' });
    ids.pool = p.id;
    const devices = Array.from({ length: 5 }, (_, i) => ({
      hostname: `e2e-node-${i + 1}`,
      ip: `10.9.0.${i + 1}`,
      cpuArch: 'amd64',
      cpuCores: 32,
      memoryBytes: 128 * 2 ** 30,
      idc: 'bj1',
      rack: `r${i % 2}`,
      labels: { 'node-role': 'worker' },
    }));
    await api.post('/devices/import', devices);
  });

  await T.test('put the signed-in person on duty this week (duty roster)', async () => {
    await visit('/duty');
    await page.getByTestId('duty-add').click();
    await page.getByTestId('duty-person').fill('e2e-admin'); // the AUTH_TOKENS user: in-app notifications go to them
    await page.getByTestId('duty-email').fill('e2e-admin@example.com');
    await page.getByTestId('duty-form-ok').click();
    await page.getByTestId('on-duty').filter({ hasText: 'e2e-admin' }).waitFor();
    await shot('12-duty');
  });

  await T.test('create a query template with the visual builder (live preview)', async () => {
    await visit('/templates/new');
    await page.getByTestId('template-name').fill(name('32c-workers'));
    await page.getByTestId('block-value-0-0').fill('32');
    await page.getByTestId('add-block-0').click();
    await pick('block-type-0-1', '节点标签');
    await page.getByTestId('block-key-0-1').fill('node-role');
    await page.getByTestId('block-value-0-1').fill('worker');
    await page.waitForTimeout(800); // the preview debounces
    await shot('06-template-edit');
    await page.getByTestId('template-save').click();
    await page.waitForURL(`${base}/templates`);
    const list = await api.get(`/device-query/templates?name=${name('32c-workers')}`);
    ids.template = list.items[0].id;
    const t = list.items[0].groups;
    const blocks = t.groups[0].blocks;
    if (blocks.length !== 2 || blocks[0].key !== 'cpuCores' || blocks[1].key !== 'node-role') throw new Error(`saved template ${JSON.stringify(t)}`);
  });

  await T.test('create a matching policy for general pools', async () => {
    await visit('/policies');
    await page.getByTestId('policy-create').click();
    await page.getByTestId('policy-name').fill(name('general-entry'));
    await pick('policy-pooltype', 'general');
    await pick('policy-template', name('32c-workers'));
    await page.getByTestId('policy-form-ok').click();
    await page.locator('td', { hasText: name('general-entry') }).waitFor();
  });

  await T.test('create a strategy (CPU allocated > 80% for 3 days → 60%)', async () => {
    await visit('/strategies/new');
    await page.getByTestId('strategy-name').fill(name('cpu-hot'));
    await page.getByTestId('strategy-resourceTypes').click();
    await page.keyboard.type('general');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Escape');
    await pick('strategy-clusters', 'E2E 北京一区');
    await page.keyboard.press('Escape');
    await page.getByTestId('cpuThresholdValue').fill('80');
    await page.getByTestId('cpuTargetValue').fill('90');
    await page.getByTestId('strategy-save').click();
    await page.getByText('入池时目标值须小于阈值').waitFor(); // validated like the API
    await page.getByTestId('cpuTargetValue').fill('60');
    await shot('05-strategy-form');
    await page.getByTestId('strategy-save').click();
    await page.waitForURL(`${base}/strategies`);
    const list = await api.get(`/elastic-scaling/strategies?name=${name('cpu-hot')}`);
    ids.strategy = list.items[0].id;
    if (String(list.items[0].clusterIds) !== String(ids.cluster)) throw new Error(`clusters ${list.items[0].clusterIds}`);
  });

  await T.test('load snapshots: the pool ran hot for the last 5 days', async () => {
    const snaps = [5, 4, 3, 2, 1].map((n) => ({
      clusterId: ids.cluster,
      poolId: ids.pool,
      capturedAt: daysAgo(n),
      cpuCapacity: 100_000,
      cpuAllocated: 90_000,
      cpuUsage: 70_000,
      memCapacity: 400 * 2 ** 30,
      memAllocated: 200 * 2 ** 30,
      memUsage: 150 * 2 ** 30,
      nodeCount: 4,
    }));
    await api.post('/snapshots', snaps);
  });

  await T.test('dry run shows the decision without creating an order', async () => {
    await visit('/strategies');
    await page.getByTestId(`dryrun-${ids.strategy}`).click();
    try {
      await page.getByTestId('run-result').getByText('已触发').waitFor();
    } finally {
      await shot('04-strategy-dry-run'); // the result, or the error the modal shows
      await closeModal();
    }
    const orders = await api.get(`/elastic-scaling/orders?strategyId=${ids.strategy}`);
    if (orders.items.length) throw new Error('a dry run created an order');
  });

  await T.test('run now creates an order', async () => {
    await page.getByTestId(`run-${ids.strategy}`).click();
    try {
      await page.getByTestId('run-result').getByText('已触发').waitFor();
    } finally {
      await closeModal();
    }
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const orders = await api.get(`/elastic-scaling/orders?strategyId=${ids.strategy}`);
      if (orders.items.length) {
        ids.order = orders.items[0];
        break;
      }
      await page.waitForTimeout(500); // matching runs on the event bus after the evaluation commits
    }
    if (!ids.order) throw new Error('no order within 30 s of run now');
  });

  await T.test('the bell shows the new order to the person on duty; mark all read clears it', async () => {
    // notify handles order.created on the event bus after matching commits.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const mine = await api.get('/notifications?unread=true');
      if (mine.items?.some((n) => `${n.title} ${n.body}`.includes(ids.order.orderNumber))) break;
      if (Date.now() > deadline) throw new Error(`no notification about ${ids.order.orderNumber}: ${JSON.stringify(mine.items)}`);
      await page.waitForTimeout(500);
    }
    const unread = (await api.get('/notifications/unread-count')).count;
    await visit('/');
    const badge = page.getByTestId('notification-badge');
    await page.waitForFunction((n) => document.querySelector('[data-testid=notification-badge]')?.getAttribute('data-unread') === String(n), unread);
    await badge.locator('.ant-badge-count').waitFor(); // the number is drawn
    await page.getByTestId('notification-bell').click();
    const item = page.locator('.ant-popover .ant-list-item', { hasText: ids.order.orderNumber }).first();
    await item.waitFor();
    await page.waitForTimeout(300); // popover animation
    await page.screenshot({ path: join(shotDir, '15-notifications.png') });
    await page.getByTestId('notification-read-all').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=notification-badge]')?.getAttribute('data-unread') === '0');
    await badge.locator('.ant-badge-count').waitFor({ state: 'hidden' });
    const after = (await api.get('/notifications/unread-count')).count;
    if (after !== 0) throw new Error(`unread ${after} after mark all read`);
    await page.keyboard.press('Escape');
    await page.mouse.click(700, 80); // close the popover
  });

  await T.test('a viewer sees the order but no buttons to act on it; then the admin signs back in', async () => {
    await signIn(VIEWER_TOKEN);
    await page.getByTestId('me-role').getByText('只读').waitFor();
    await page.getByTestId('me-subject').getByText('e2e-viewer').waitFor();
    const row = page.getByTestId('pending-orders').locator('tr', { hasText: ids.order.orderNumber });
    await row.waitFor();
    await settle();
    if ((await row.getByTestId('order-action-execute').count()) !== 0) throw new Error('a viewer is offered execute on the workbench');
    await shot('01-workbench-viewer');
    await visit(`/orders/${ids.order.id}`);
    await page.getByTestId('order-actions-readonly').waitFor();
    for (const id of ['order-action-execute', 'order-action-cancel', 'order-ops-preview', 'order-ops-rerun']) {
      if ((await page.getByTestId(id).count()) !== 0) throw new Error(`a viewer is offered ${id} on the order`);
    }
    await shot('02-order-detail-viewer');
    await visit('/strategies');
    const create = page.getByTestId('strategy-create');
    await create.waitFor();
    if (!(await create.isDisabled())) throw new Error('a viewer may create a strategy');
    if (!(await page.getByTestId(`run-${ids.strategy}`).isDisabled())) throw new Error('a viewer may run a strategy now');
    await create.locator('..').hover(); // the tooltip names the role needed
    await page.locator('.ant-tooltip', { hasText: '需要操作员角色' }).waitFor();
    await page.waitForTimeout(300); // the tooltip's animation
    await page.screenshot({ path: join(shotDir, '05-strategies-viewer.png') }); // the viewport, with the tooltip
    // A token the server no longer accepts (revoked, or AUTH_TOKENS changed) on reload: back to sign-in, saying why.
    await page.evaluate(() => localStorage.setItem('elasticpool.token', 'revoked-token'));
    await visit('/');
    await page.getByTestId('login-error').getByText('令牌已被服务器拒绝').waitFor();
    await shot('00-login-token-rejected');
    await page.getByTestId('login-token').fill(TOKEN);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('me-role').getByText('管理员').waitFor();
  });

  await T.test('the order appears on the workbench and is executed there', async () => {
    await visit('/');
    const row = page.getByTestId('pending-orders').locator('tr', { hasText: ids.order.orderNumber });
    await row.waitFor();
    await shot('01-workbench');
    await row.getByTestId('order-action-execute').click();
    await page.getByTestId('order-action-ok').click();
    await row.waitFor({ state: 'detached' });
    const o = await api.get(`/elastic-scaling/orders/${ids.order.id}`);
    if (o.status !== 'processing') throw new Error(`status ${o.status}, want processing`);
    ids.order.versionAfterExecute = o.version;
  });

  await T.test('preview the order’s node operations (dry run; the cluster has no credentials → manual mode)', async () => {
    await visit(`/orders/${ids.order.id}`);
    await page.getByTestId('order-ops-preview').click();
    const modal = page.getByTestId('ops-preview');
    try {
      // The plan answers per device; without credentials it says manual mode.
      await modal.getByTestId('ops-plan').waitFor({ timeout: 60_000 });
      await modal.getByTestId('ops-manual').getByText('手动模式：该集群未配置凭据').waitFor();
      await modal.locator('tr', { hasText: 'e2e-node-' }).first().waitFor();
    } finally {
      // The viewport, not the full page: the modal and its mask are fixed.
      await page.mouse.move(0, 0);
      await settle();
      await page.screenshot({ path: join(shotDir, '03-order-operations-preview.png') }); // the plan, or the error the modal shows
      await page.getByTestId('ops-preview-close').click();
      await page.locator('.ant-modal-wrap').waitFor({ state: 'hidden' }).catch(() => {});
    }
    // The same in English, for the picture.
    await page.getByTestId('lang-toggle').click();
    await page.getByTestId('order-ops-preview').getByText('Preview node operations').waitFor();
    await page.getByTestId('order-ops-preview').click();
    try {
      await page.getByTestId('ops-manual').getByText('Manual mode: the cluster has no credentials').waitFor({ timeout: 60_000 });
    } finally {
      await page.mouse.move(0, 0);
      await settle();
      await page.screenshot({ path: join(shotDir, '03-order-operations-preview-en.png') });
      await page.getByTestId('ops-preview-close').click();
      await page.locator('.ant-modal-wrap').waitFor({ state: 'hidden' }).catch(() => {});
      await page.getByTestId('lang-toggle').click();
      await page.getByTestId('order-ops-preview').getByText('预览节点操作').waitFor();
    }
    const o = await api.get(`/elastic-scaling/orders/${ids.order.id}`);
    if (o.status !== 'processing' || o.version !== ids.order.versionAfterExecute)
      throw new Error(`a preview changed the order: ${o.status} v${o.version}, want processing v${ids.order.versionAfterExecute}`);
  });

  await T.test('re-run the node operations of the processing order (queued)', async () => {
    await page.getByTestId('order-ops-rerun').click();
    await page.getByTestId('order-ops-rerun-ok').click();
    await page.locator('.ant-message', { hasText: '已排队执行' }).waitFor();
    await page.locator('.ant-modal-wrap').waitFor({ state: 'hidden' }).catch(() => {});
  });

  await T.test('complete the order from its detail page', async () => {
    await visit(`/orders/${ids.order.id}`);
    await page.getByTestId('order-action-complete').click();
    await page.getByTestId('order-action-ok').click();
    await page.locator('.ant-tag', { hasText: '已完成' }).first().waitFor();
    const o = await api.get(`/elastic-scaling/orders/${ids.order.id}`);
    if (o.status !== 'completed') throw new Error(`status ${o.status}, want completed`);
    await page.getByTestId('order-audit').locator('td', { hasText: 'e2e-admin' }).first().waitFor();
    await shot('03-order-detail');
  });

  await T.test('execution history explains why the pool triggered', async () => {
    await visit('/history');
    await page.locator('.ant-table-row-expand-icon').first().click();
    await page.getByTestId('why').waitFor();
    await page.getByTestId('why').locator('.ant-table-cell', { hasText: /^90\.0$/ }).first().waitFor(); // the per-day rates
    await shot('10-history');
  });

  await T.test('an external system requests maintenance of a pooled device (signed call)', async () => {
    const inPool = await api.get('/devices?status=in_pool&limit=1');
    ids.device = inPool.items[0];
    const start = new Date(Date.now() + 3600_000);
    const m = await api.signed('POST', '/maintenance/requests', {
      hostname: ids.device.hostname,
      externalTicketId: 'CHG-E2E-1',
      reason: 'replace disk 3 (SMART errors)',
      windowStart: start.toISOString(),
      windowEnd: new Date(start.getTime() + 4 * 3600_000).toISOString(),
    });
    if (m.status !== 'pending' || m.externalSystem !== 'itsm') throw new Error(`request answered ${JSON.stringify(m)}`);
    ids.maint = m;
  });

  await T.test('the maintenance page shows the request and the operator confirms it', async () => {
    await visit('/maintenance');
    const row = page.getByTestId('maintenance-requests').locator('tr', { hasText: ids.maint.orderNumber });
    await row.waitFor();
    await row.getByText(ids.device.hostname).waitFor();
    await row.getByText('itsm / CHG-E2E-1').waitFor();
    await shot('11-maintenance-requested');
    await row.getByTestId('order-action-confirm').click();
    await page.getByTestId('order-action-ok').click();
    await row.getByTestId('order-action-complete').waitFor(); // the list shows the next step
    const m = await api.get(`/maintenance/requests/${ids.maint.id}`);
    if (m.status !== 'maintenance_in_progress' || m.deviceStatus !== 'maintenance') throw new Error(`after confirm: ${m.status}, device ${m.deviceStatus}`);
  });

  await T.test('the workbench counts it under maintenance in progress', async () => {
    await visit('/');
    await page.getByTestId('card-maint').locator('.ant-statistic-content-value', { hasText: /^1$/ }).waitFor();
    await shot('01-workbench-maintenance');
  });

  await T.test('the operator completes the maintenance; the uncordon order appears and brings the device back', async () => {
    await visit('/maintenance');
    const row = page.getByTestId('maintenance-requests').locator('tr', { hasText: ids.maint.orderNumber });
    await row.getByTestId('order-action-complete').click();
    await page.getByTestId('order-action-ok').click();
    await row.locator('.ant-tag', { hasText: '已完成' }).waitFor(); // the list refreshed after the step
    const m = await api.get(`/maintenance/requests/${ids.maint.id}`);
    if (m.status !== 'completed' || !m.uncordonOrderNumber || m.deviceStatus !== 'cordoned')
      throw new Error(`after complete: ${m.status}, uncordon ${m.uncordonOrderNumber}, device ${m.deviceStatus}`);
    await row.getByRole('link', { name: m.uncordonOrderNumber }).waitFor(); // linked from the request
    await page.getByRole('tab', { name: '恢复调度订单' }).click();
    const u = page.getByTestId('uncordon-orders').locator('tr', { hasText: m.uncordonOrderNumber });
    await u.waitFor();
    await shot('11-maintenance-uncordon');
    await u.getByTestId('order-action-execute').click();
    await page.getByTestId('order-action-ok').click();
    await u.getByTestId('order-action-complete').click();
    await page.getByTestId('order-action-ok').click();
    await u.locator('.ant-tag', { hasText: '已完成' }).waitFor();
    const d = await api.get(`/devices/${ids.device.id}`);
    if (d.status !== 'in_pool') throw new Error(`device ${d.hostname} is ${d.status} after the uncordon order, want in_pool`);
  });

  const pages = [
    ['02-orders', '/orders'],
    ['04-strategies', '/strategies'],
    ['06-templates', '/templates'],
    ['07-policies', '/policies'],
    ['08-devices', '/devices'],
    ['09-clusters', '/clusters'],
    ['13-audit', '/audit'],
  ];
  for (const [file, path] of pages)
    await T.test(`page ${path} renders`, async () => {
      await visit(path);
      await page.locator('.page-header h2').waitFor();
      await shot(file);
    });

  await T.test('English toggle', async () => {
    await visit('/');
    await page.getByTestId('lang-toggle').click();
    await page.getByRole('heading', { name: 'Workbench' }).waitFor();
    await shot('14-workbench-en');
    await page.getByTestId('lang-toggle').click();
  });

  await T.test('no uncaught page errors', async () => {
    if (env.consoleErrors.length) throw new Error(env.consoleErrors.join('\n'));
  });
} finally {
  await env.stop();
}
console.log(`[e2e] screenshots in ${shotDir}`);
process.exit(T.summary() ? 1 : 0);
