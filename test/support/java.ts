/** The Java model checks that unit tests run (test/java): compiled into a temporary folder, run with `java`. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');

/** Compiles Java sources (paths relative to the repository) for Java 17 into a new temporary folder; returns it. */
export function compileJava(sources: string[]): string {
  const classes = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-java-check-'));
  execFileSync('javac', ['--release', '17', '-d', classes, ...sources.map((s) => path.join(root, s))]);
  return classes;
}

/** Runs a main class of `classes`: what it printed, also when it exited non-zero (`failed`). */
export function runJava(classes: string, mainClass: string, args: string[]): { stdout: string; failed: boolean } {
  try {
    return { stdout: execFileSync('java', ['-cp', classes, mainClass, ...args], { encoding: 'utf8' }), failed: false };
  } catch (err) {
    return { stdout: (err as { stdout?: string }).stdout ?? String(err), failed: true };
  }
}
