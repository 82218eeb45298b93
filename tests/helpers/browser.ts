/**
 * What the browser tests share: a page in its own context that records what went wrong in it, and
 * axe-core run inside the page with the page's CSP in force.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';

// The callbacks given to page.evaluate run in the browser. The project's TypeScript has no DOM
// library (one added program-wide clashes with Node's types), so the few browser globals they use
// are declared here, for this module only, and loosely.
// biome-ignore lint/suspicious/noExplicitAny: browser globals seen from Node's types, for page.evaluate callbacks only
type InPage = any;
declare const window: InPage, document: InPage;
type Document = InPage;

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Everything a page did that a test holds against it: CSP violations, console errors, uncaught errors; and every URL it asked for. */
export interface Seen {
  problems: string[];
  urls: string[];
}

/** The statuses a refused request may answer with, which the browser logs itself while the page shows the detail. */
const EXPECTED_REFUSALS = /Failed to load resource: the server responded with a status of (401|404|409|410|413|415|422)/;

/**
 * A page in its own context (its own sessionStorage: a private window), which records every CSP
 * violation, console error, uncaught error and request URL in `seen`.
 */
export async function openPage(
  browser: Browser,
  url: string,
  viewport: { width: number; height: number },
): Promise<{ page: Page; context: BrowserContext; seen: Seen }> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, locale: 'en-US' });
  const page = await context.newPage();
  const seen: Seen = { problems: [], urls: [] };
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e: InPage) =>
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && !EXPECTED_REFUSALS.test(m.text())) seen.problems.push(m.text());
  });
  page.on('pageerror', (e) => seen.problems.push(`uncaught: ${e.message}`));
  page.on('request', (r) => seen.urls.push(r.url()));
  await page.goto(url);
  return { page, context, seen };
}

interface AxeResult {
  violations: { id: string; impact: string; nodes: { target: string[] }[] }[];
}

/**
 * axe-core's violations in the page as it is now (evaluated, not injected as a script tag: the CSP
 * stays in force), as "impact id: targets"; only serious and critical ones unless `all`.
 */
export async function axeViolations(page: Page, { all = false } = {}): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (c: Document, o: object) => Promise<AxeResult> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations
    .filter((v) => all || v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.targets.join(', ')}`);
}
