import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_TAPK, REPO_ROOT } from '../support/fixture.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { SimulatedTijosDevice } from './simulated-tijos-device.js';

/** Screenshots of every page, for people to look at (gitignored). */
const OUT = path.join(REPO_ROOT, 'test-output/console');
const CHROMIUM = process.env.TIOTA_CHROMIUM ?? '/usr/bin/chromium';

/**
 * The console as an operator uses it (issue 7), in Debian's Chromium against a real server and
 * simulated TiJOS devices on real MQTT connections. `npm test` builds web/dist first.
 */
describe('web console', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const devices: SimulatedTijosDevice[] = [];
  let releaseField: () => void = () => undefined;

  beforeAll(async () => {
    await mkdir(OUT, { recursive: true });
    server = await startTestServer();
    const fieldGate = new Promise<void>((resolve) => (releaseField = resolve));
    for (const id of ['lab-01', 'lab-02', 'lab-03', 'lab-04']) {
      devices.push(await SimulatedTijosDevice.start(server, id, ['lab']));
    }
    devices.push(
      await SimulatedTijosDevice.start(server, 'field-01', ['field'], { gate: fieldGate }),
    );
    devices.push(await SimulatedTijosDevice.start(server, 'field-02', ['field']));
    devices.push(
      await SimulatedTijosDevice.start(server, 'field-03', ['field'], { failWrite: true }),
    );
    await server.api('POST', '/devices', { deviceId: 'spare-01', tags: ['spare'] });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(10_000);
    page.on('dialog', (dialog) => void dialog.accept());
  });

  afterAll(async () => {
    releaseField();
    await browser?.close();
    for (const d of devices) await d.close();
    await server?.stop();
  });

  /** A screenshot, scrolled to the top first so the sticky header sits at the top. */
  const shot = async (name: string, fullPage = true) => {
    await page.evaluate(() => {
      (document.activeElement as HTMLElement | null)?.blur();
      window.scrollTo(0, 0);
    });
    await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage });
  };
  const go = (hash: string) => page.goto(`${server.httpUrl}/#/${hash}`);

  it('signs in with a password where the server offers it, else with the admin token', async () => {
    await page.goto(server.httpUrl);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await shot('login');

    const openapi = await (await fetch(`${server.httpUrl}/api/v1/openapi.json`)).json();
    if (openapi.paths['/api/v1/login']) {
      const password = (await readFile(path.join(server.dataDir, 'admin-password'), 'utf8')).trim();
      await page.getByLabel('User name').fill('admin');
      await page.getByLabel('Password', { exact: true }).fill(password);
    } else {
      await page.getByLabel('API token').fill(server.token);
    }
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Sections' }).waitFor();
  });

  it('shows fleet size, online devices and versions in the field', async () => {
    await go('overview');
    const stats = page.getByRole('region', { name: 'Fleet' });
    await expect.poll(() => stats.innerText()).toMatch(/Devices\s+8/);
    await expect.poll(() => stats.innerText()).toMatch(/Online now\s+7/);
    await page
      .getByRole('img', { name: /Versions in the field: tijos-http-ota 1\.0\.0 7/ })
      .waitFor();
    await shot('overview');
  });

  let packageId = 0;
  it('uploads the fixture .tapk by drag and drop and shows its trailer', async () => {
    await go('packages');
    await page.getByText('No packages yet').waitFor();
    const bytes = await readFile(FIXTURE_TAPK);
    const dataTransfer = await page.evaluateHandle(
      ({ base64, name }) => {
        const data = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([data], name, { type: 'application/octet-stream' }));
        return transfer;
      },
      { base64: bytes.toString('base64'), name: path.basename(FIXTURE_TAPK) },
    );
    await page.dispatchEvent('[data-testid="drop-zone"]', 'drop', { dataTransfer });
    await page.getByText('tijos-http-ota.tapk').waitFor();
    await page.getByLabel('Version').fill('2.0.0');
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.getByText('Uploaded tijos-http-ota 2.0.0').waitFor();
    await page.getByRole('link', { name: 'tijos-http-ota' }).waitFor();
    await shot('packages');

    await page.getByRole('link', { name: 'View details' }).click();
    packageId = Number(/#\/packages\/(\d+)/.exec(page.url())![1]);
    await page.getByRole('heading', { name: 'TiJOS package (.tapk)' }).waitFor();
    const details = await page.locator('main').innerText();
    expect(details).toContain('OTA via CoAP');
    expect(details).toContain('2021-04-10T02:13:56');
    expect(details).toContain('0x58b9');
    expect(details).toContain('20,384 bytes');
    expect(details).toMatch(/[0-9a-f]{64}/);
    await shot('package');
  });

  it('refuses a corrupt package with the server message', async () => {
    await go('packages');
    const bytes = await readFile(FIXTURE_TAPK);
    bytes[100] ^= 0xff;
    await page.locator('input[type="file"]').setInputFiles({
      name: 'broken.tapk',
      mimeType: 'application/octet-stream',
      buffer: bytes,
    });
    await page.getByLabel('Version').fill('2.0.1');
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: /CRC/i }).waitFor();
  });

  it('filters devices by tag and connection', async () => {
    await go('devices?tag=field');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(3);
    await page.getByLabel('Connection').selectOption('false');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(0);
    await page.getByText('No device matches these filters').waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(8);
    await shot('devices');
  });

  /** Fills the creation form: small fixed batches, no canary, no soak, no retries. */
  async function planRollout(tag: string, batchSize: number) {
    await go(`rollouts/new?package=${packageId}`);
    await page.getByLabel('With any of the tags').fill(tag);
    await page.getByLabel(/^Canary/).fill('0');
    await page.getByLabel(/^Batch strategy/).selectOption('fixed');
    await page.getByLabel(/^Batch size/).fill(String(batchSize));
    await page.getByLabel(/^Soak seconds/).fill('0');
    await page.getByText(/^More settings/).click();
    await page.getByLabel(/^Max retries/).fill('0');
  }

  it('creates a rollout from the plan and watches it reach 100 %', async () => {
    await planRollout('lab', 2);
    const plan = page.getByRole('region', { name: 'Plan' });
    await plan.getByText(/4\s+devices in\s+2\s+batches/).waitFor();
    await expect
      .poll(() => page.getByTestId('expected-duration').innerText())
      .toMatch(/Expected duration: \d+ (s|min)/);
    await shot('rollout-new');

    await page.getByRole('button', { name: 'Start rollout' }).click();
    await page.waitForURL(/#\/rollouts\/\d+$/);
    await page.getByText('Live', { exact: true }).waitFor();
    await expect
      .poll(() => page.getByTestId('rollout-percent').innerText(), { timeout: 20_000 })
      .toBe('100 %');
    await page.getByText('completed', { exact: true }).first().waitFor();
    expect(await page.getByRole('region', { name: 'Progress' }).innerText()).toContain(
      '4 of 4 upgraded',
    );
    await expect.poll(() => page.getByRole('table').getByText('succeeded').count()).toBe(4);
    await shot('rollout-completed');
  });

  it('pauses and resumes a second rollout, then shows its failure grouped by reason', async () => {
    await planRollout('field', 1);
    await page
      .getByRole('region', { name: 'Plan' })
      .getByText(/3\s+devices in\s+3\s+batches/)
      .waitFor();
    await page.getByRole('button', { name: 'Start rollout' }).click();
    await page.waitForURL(/#\/rollouts\/\d+$/);

    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByText('Paused: paused by operator').waitFor();
    // Paused, its summary does not say it is running.
    const progress = page.getByRole('region', { name: 'Progress' });
    await progress.getByText(/paused, started .* ago/).waitFor();
    expect(await progress.innerText()).not.toContain('running for');
    await shot('rollout-paused');
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('button', { name: 'Pause' }).waitFor();

    releaseField();
    const errors = page.getByRole('list', { name: 'Errors by reason' });
    await errors.getByText('ota_-4').waitFor({ timeout: 20_000 });
    await expect
      .poll(() => page.getByTestId('rollout-percent').innerText(), { timeout: 20_000 })
      .toBe('100 %');
    expect(await page.getByRole('region', { name: 'Progress' }).innerText()).toMatch(
      /2 of 3 upgraded.*1\s+failed/s,
    );
    const failedRow = page.getByRole('table').getByRole('row').filter({ hasText: 'field-03' });
    await failedRow.getByText('failed').waitFor();
    await shot('rollout');
    // The README's picture of the console (docs/images/rollout-page.png is a copy of it).
    await shot('rollout-page', false);
  });

  it("opens the failed device's timeline with its error codes", async () => {
    await page
      .getByRole('list', { name: 'Errors by reason' })
      .getByRole('link', { name: 'field-03' })
      .click();
    const history = page.getByRole('list', { name: 'History' });
    await history.getByText('OTA code -4 (could not write the app)').first().waitFor();
    await history.getByText('reason ota_-4').first().waitFor();
    expect(await history.innerText()).toContain('Upgrade command sent (to 2.0.0)');
    await shot('device');
  });

  it('shows the versions after the rollouts on the overview', async () => {
    await go('overview');
    await page.getByRole('img', { name: /tijos-http-ota 2\.0\.0 6/ }).waitFor();
    await page.getByRole('table').getByRole('link', { name: 'field-03' }).waitFor();
    await shot('overview-after');
  });

  it('shows the operator actions in the audit log', async () => {
    await go('audit');
    const table = page.getByRole('table');
    await table.getByText('rollout.pause').first().waitFor();
    const text = await table.innerText();
    for (const action of ['package.upload', 'rollout.create', 'rollout.resume']) {
      expect(text).toContain(action);
    }
    await shot('audit');
  });

  it('fits a 390 px phone screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const pages = {
      overview: page.getByRole('region', { name: 'Fleet' }),
      devices: page.getByRole('table'),
      [`packages/${packageId}`]: page.getByText('SHA-256'),
      'rollouts/2': page.getByTestId('rollout-percent'),
      'devices/field-03': page.getByRole('list', { name: 'History' }),
    };
    for (const [hash, loaded] of Object.entries(pages)) {
      await go(hash);
      await loaded.waitFor();
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - window.innerWidth,
      );
      expect(overflow, `#/${hash} scrolls sideways`).toBeLessThanOrEqual(0);
    }
    await go('rollouts/2');
    await page.getByTestId('rollout-percent').waitFor();
    await shot('rollout-phone');
  });
});
