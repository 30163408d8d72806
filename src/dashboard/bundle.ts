/**
 * The pages' scripts: src/dashboard/browser/{grid,pipeline}.ts, TypeScript type-checked and linted with
 * the rest of the code, bundled by esbuild into the /static/grid.js and /static/pipeline.js the pages load
 * (each with browser/common.ts and the parts of view.ts it uses: one wording of ages for server and page).
 *
 * When they are built: by the dashboard itself, as it starts (startDashboard), kept in this process's
 * memory, and built again when a page asks for a script whose sources changed since (a sha256 of every
 * file esbuild read). Not by an npm script, because every way the dashboard runs — `npm run demo`,
 * `gridflow dashboard [start]`, the supervisor restarting it, the tests' in-process servers, a fresh clone
 * after `npm ci` — goes through startDashboard, and so none of them needs a build step that could be
 * forgotten or leave a bundle older than its sources (bin/gridflow compiles the server's TypeScript on
 * demand for the same reason). A build takes a few tens of milliseconds. Nothing is written to disk,
 * so there is no generated file to git-ignore. esbuild is a devDependency, like the TypeScript compiler
 * bin/gridflow runs: the dashboard runs from a clone with its dev dependencies installed.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { repoRoot } from '../config';

/** The pages' entry points in src/dashboard/browser, each served as /static/<name>.js. */
export const PAGE_SCRIPTS = ['grid', 'pipeline'] as const;
type PageScript = (typeof PAGE_SCRIPTS)[number];

interface Bundle {
  scripts: Record<PageScript, string>;
  /** sha256 of each file the build read, by absolute path: the bundle is current while they are unchanged. */
  inputs: Map<string, string>;
}

/** By repository root (tests build from a root of their own): the last bundle, and the build under way. */
const built = new Map<string, { current: Bundle | null; pending: Promise<Bundle> | null }>();

/** Builds run one after another in this process (each stops esbuild's service when it ends). */
let queue: Promise<unknown> = Promise.resolve();

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

async function unchanged(inputs: Map<string, string>): Promise<boolean> {
  for (const [file, hash] of inputs) {
    const now = await fs.promises.readFile(file).then(sha256, () => null);
    if (now !== hash) return false;
  }
  return true;
}

function build(root: string): Promise<Bundle> {
  const run = queue.then(() => buildNow(root));
  queue = run.catch(() => undefined);
  return run;
}

async function buildNow(root: string): Promise<Bundle> {
  const dir = path.join(root, 'src', 'dashboard', 'browser');
  const inputs = new Map<string, string>();
  try {
    const result = await esbuild.build({
      entryPoints: PAGE_SCRIPTS.map((name) => path.join(dir, `${name}.ts`)),
      outdir: dir, // names the outputs only: write is false
      write: false,
      bundle: true,
      format: 'iife',
      platform: 'browser', // a Node built-in reached from the pages' code fails the build
      target: 'es2022',
      charset: 'utf8',
      logLevel: 'silent',
      plugins: [
        {
          // Reads every source itself, so that the hash is of the very bytes that were bundled.
          name: 'hash-inputs',
          setup(b) {
            b.onLoad({ filter: /\.[cm]?[jt]s$/ }, async (args) => {
              const contents = await fs.promises.readFile(args.path);
              inputs.set(args.path, sha256(contents));
              return { contents, loader: /\.[cm]?ts$/.test(args.path) ? 'ts' : 'js' };
            });
          },
        },
      ],
    });
    const scripts = {} as Record<PageScript, string>;
    for (const name of PAGE_SCRIPTS) {
      const out = result.outputFiles.find((f) => f.path === path.join(dir, `${name}.js`));
      if (!out) throw new Error(`esbuild wrote no ${name}.js`);
      scripts[name] = out.text;
    }
    return { scripts, inputs };
  } finally {
    // The dashboard stays one process between builds (esbuild's service starts again with the next one).
    await esbuild.stop();
  }
}

/** The pages' scripts, built now if never built or if a source changed since. Rejects with esbuild's errors. */
export async function pageScripts(root: string = repoRoot()): Promise<Record<PageScript, string>> {
  const state = built.get(root) ?? { current: null, pending: null };
  built.set(root, state);
  // One build at a time: requests that come during one wait for it.
  state.pending ??= (async () => {
    if (!state.current || !(await unchanged(state.current.inputs))) state.current = await build(root);
    return state.current;
  })().finally(() => {
    state.pending = null;
  });
  return (await state.pending).scripts;
}
