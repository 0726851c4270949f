// `make lighthouse`: Lighthouse scores of a running app, for the login page and, signed in, the
// task page; mobile and desktop presets; each run RUNS times in a fresh Chromium profile (a cold
// cache), reported as median (min-max). Also the bytes a cold load of /login transfers, per
// resource. The server is yours: `make run`, or `PORT=8801 python -m backend.serve`.
//
//   URL=http://localhost:8801 EMAIL=you@example.com PASSWORD=... node tools/lighthouse/run.mjs
//
// Without EMAIL and PASSWORD only /login is measured. Open the app by the host name of its
// PUBLIC_URL (localhost, not 127.0.0.1): login checks the Origin. REPORTS=dir keeps every
// report as JSON; CHROMIUM picks the browser (default /usr/bin/chromium); CHROME_PORT its
// debugging port (default: any free one).
import fs from "node:fs";
import path from "node:path";

import * as chromeLauncher from "chrome-launcher";
import lighthouse, { desktopConfig } from "lighthouse";
import puppeteer from "puppeteer-core";

const base = (process.env.URL || "http://localhost:8801").replace(/\/+$/, "");
const runs = Number(process.env.RUNS || 3);
const email = process.env.EMAIL;
const password = process.env.PASSWORD;
const reports = process.env.REPORTS;
const chromePath = process.env.CHROMIUM || process.env.CHROME_PATH || "/usr/bin/chromium";
const chromePort = Number(process.env.CHROME_PORT || 0);
const categories = ["performance", "accessibility", "best-practices", "seo"];
const presets = { mobile: undefined, desktop: desktopConfig }; // undefined: Lighthouse's default, mobile

async function launch() {
  const flags = ["--headless=new", "--disable-gpu"];
  if (process.getuid?.() === 0) flags.push("--no-sandbox"); // Chromium refuses root without it
  return chromeLauncher.launch({ chromePath, chromeFlags: flags, port: chromePort || undefined });
}

// Signs in as the SPA does: POST /auth/jwt/login sets the HttpOnly refresh cookie in this
// profile, and loading `/` then restores the session from it.
async function signIn(port) {
  const browser = await puppeteer.connect({ browserURL: `http://127.0.0.1:${port}` });
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/login`, { waitUntil: "networkidle0" });
    const status = await page.evaluate(
      async (username, secret) => {
        const body = new URLSearchParams({ username, password: secret });
        return (await fetch("/auth/jwt/login", { method: "POST", body })).status;
      },
      email,
      password,
    );
    if (status !== 200) throw new Error(`POST /auth/jwt/login answered ${status} for ${email}`);
    await page.close();
  } finally {
    await browser.disconnect();
  }
}

async function measure(name, pathname, preset, run) {
  const chrome = await launch();
  try {
    if (name === "tasks") await signIn(chrome.port);
    const flags = { port: chrome.port, output: "json", logLevel: "error", onlyCategories: categories };
    const { lhr, report } = await lighthouse(`${base}${pathname}`, flags, presets[preset]);
    if (lhr.runtimeError) throw new Error(`${name} ${preset}: ${lhr.runtimeError.message}`);
    const landed = new URL(lhr.finalDisplayedUrl).pathname;
    if (landed !== pathname) throw new Error(`${name} ${preset}: ended on ${landed}, not ${pathname}`);
    if (reports) {
      fs.mkdirSync(reports, { recursive: true });
      fs.writeFileSync(path.join(reports, `${name}-${preset}-${run}.json`), report);
    }
    return lhr;
  } finally {
    // Gone before the next run starts, so a fixed CHROME_PORT is free again.
    const exited = new Promise((resolve) => chrome.process.once("exit", resolve));
    chrome.kill();
    if (chrome.process.exitCode === null && chrome.process.signalCode === null) await exited;
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const spread = (values) =>
  values.length > 1
    ? `${median(values)} (${Math.min(...values)}-${Math.max(...values)})`
    : `${values[0]}`;
const score = (lhr, category) => Math.round((lhr.categories[category].score ?? 0) * 100);

function requests(lhr) {
  return lhr.audits["network-requests"].details.items.filter((item) => item.url.startsWith(base));
}

const pages = [["login", "/login"]];
if (email && password) pages.push(["tasks", "/"]);
else console.log("EMAIL and PASSWORD unset: only /login is measured (the task page needs a signed-in user)\n");

const results = [];
for (const [name, pathname] of pages) {
  for (const preset of Object.keys(presets)) {
    const lhrs = [];
    for (let run = 1; run <= runs; run += 1) {
      process.stderr.write(`${name} ${preset} run ${run}/${runs}\n`);
      lhrs.push(await measure(name, pathname, preset, run));
    }
    results.push({ name, pathname, preset, lhrs });
  }
}

console.log(`Lighthouse ${results[0].lhrs[0].lighthouseVersion}, ${base}, ${runs} runs: median (min-max)\n`);
console.log("| page | preset | performance | accessibility | best practices | SEO | FCP ms | LCP ms |");
console.log("|---|---|---|---|---|---|---|---|");
for (const { name, pathname, preset, lhrs } of results) {
  const cells = categories.map((category) => spread(lhrs.map((lhr) => score(lhr, category))));
  for (const metric of ["first-contentful-paint", "largest-contentful-paint"]) {
    cells.push(spread(lhrs.map((lhr) => Math.round(lhr.audits[metric].numericValue))));
  }
  console.log(`| ${name} (${pathname}) | ${preset} | ${cells.join(" | ")} |`);
}

// Bytes of a cold load of /login: what went over the wire (headers included) and the decoded size.
const login = results.find((result) => result.name === "login" && result.preset === "desktop");
const totals = login.lhrs.map((lhr) => requests(lhr).reduce((sum, item) => sum + item.transferSize, 0));
console.log(`\nCold load of /login (desktop runs): ${spread(totals)} bytes transferred\n`);
console.log("| resource | transferred | decoded |");
console.log("|---|---|---|");
for (const item of requests(login.lhrs[0])) {
  const sizes = login.lhrs.map((lhr) => requests(lhr).find((other) => other.url === item.url)?.transferSize ?? 0);
  console.log(`| ${item.url.slice(base.length)} | ${spread(sizes)} | ${item.resourceSize} |`);
}
