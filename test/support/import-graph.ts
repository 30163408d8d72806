/**
 * The house's import graph (docs/ARCHITECTURE.md, "tooling that keeps it so"): every cycle among the
 * files of src/, and every name src/ exports that no other file imports.
 *
 * Read with the TypeScript compiler's parser only (no type check: the whole tree, some 250 files, takes
 * about a second). An edge is any reference from one file to another: `import`, `import type`, `export … from`,
 * `export * from`, an inline type `import('…').Name`, `require('…')` and `await import('…')`. Type-only
 * edges count: a cycle of types is still two modules that cannot be understood, moved or tested apart.
 *
 * An export is used when a file other than its own imports it by name (through any chain of re-exports and
 * `export *`), imports its module whole (`import * as m` then passed around as a value, an unqualified
 * `typeof import('…')`, a `require` not destructured), or when it is one of ENTRY_POINTS below: names
 * something outside TypeScript loads by name.
 *
 * Run by `npm test` as test/unit/house/graph.test.ts (a unit test, not an npm script: jest already runs the
 * house's other rules — boundaries, patches — and shows each finding in its failure message; no second
 * process to start). By hand: `npx ts-node -T test/support/import-graph.ts` prints the same report.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

/**
 * Exports loaded by name from outside the TypeScript import graph, so no import names them. Each with why;
 * `'*'` means every export of the file.
 */
export const ENTRY_POINTS: ReadonlyArray<{ file: string; names: readonly string[] | '*'; why: string }> = [
  { file: 'src/workflows/index.ts', names: '*', why: 'the workflow functions: the worker bundles this file (workflowsPath) and Temporal starts each workflow by its exported name' },
  { file: 'src/cli.ts', names: ['main'], why: 'bin/gridflow requires dist/src/cli.js and calls main' },
];

/** Where importers are looked for; exports are checked in src/ only. */
export const SCANNED_DIRS = ['src', 'test', 'bench', 'scripts'];
const CHECKED_DIR = 'src';

export interface Reference {
  /** The file referred to (repository-relative, '/'-separated). */
  to: string;
  line: number;
  typeOnly: boolean;
  /** The names taken from it; '*' when the whole module is (a namespace passed around, an undestructured require). */
  names: string[] | '*';
}

export interface ExportedName {
  name: string;
  line: number;
  /** For `export { a as b } from './x'`: the file and the name there. */
  from?: { file: string; name: string };
  /** Whether the name is referred to in its own file besides its declaration (drop `export`, or delete the code). */
  usedInFile: boolean;
}

export interface FileFacts {
  file: string;
  references: Reference[];
  exports: ExportedName[];
  /** Targets of `export * from`. */
  starExports: string[];
}

const SOURCE_EXTENSIONS = ['.ts', '.tsx'];

/** Resolves a relative specifier the way the compiler does for this repository (`node` resolution, .ts files). */
function resolve(from: string, specifier: string, exists: (file: string) => boolean): string | null {
  if (!specifier.startsWith('.')) return null;
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  const candidates = [
    base,
    ...SOURCE_EXTENSIONS.map((ext) => base + ext),
    ...SOURCE_EXTENSIONS.map((ext) => `${base}/index${ext}`),
    base.replace(/\.js$/, '.ts'),
  ];
  return candidates.find((c) => SOURCE_EXTENSIONS.some((ext) => c.endsWith(ext)) && exists(c)) ?? null;
}

function hasExportModifier(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

function hasDefaultModifier(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.DefaultKeyword);
}

function bindingNames(name: ts.BindingName): ts.Identifier[] {
  if (ts.isIdentifier(name)) return [name];
  return name.elements.flatMap((e) => (ts.isOmittedExpression(e) ? [] : bindingNames(e.name)));
}

/** An identifier that is a property name (`a.name`, `{ name: … }`, a member's name), not a reference to a binding. */
function isPropertyName(id: ts.Identifier): boolean {
  const p = id.parent;
  return (
    (ts.isPropertyAccessExpression(p) && p.name === id) ||
    (ts.isQualifiedName(p) && p.right === id) ||
    ((ts.isPropertyAssignment(p) || ts.isPropertySignature(p) || ts.isPropertyDeclaration(p) || ts.isMethodDeclaration(p) ||
      ts.isMethodSignature(p) || ts.isGetAccessor(p) || ts.isSetAccessor(p) || ts.isEnumMember(p)) && p.name === id) ||
    (ts.isBindingElement(p) && p.propertyName === id) ||
    ((ts.isImportSpecifier(p) || ts.isExportSpecifier(p)) && p.propertyName === id)
  );
}

/** Names taken from `require('x')` / `await import('x')`: a destructuring's property names, else the whole module. */
function takenByCall(call: ts.Expression): string[] | '*' {
  let node: ts.Node = call;
  while (ts.isAwaitExpression(node.parent) || ts.isAsExpression(node.parent) || ts.isParenthesizedExpression(node.parent)) node = node.parent;
  const decl = node.parent;
  if (ts.isVariableDeclaration(decl) && decl.initializer === node && ts.isObjectBindingPattern(decl.name)) {
    const names: string[] = [];
    for (const e of decl.name.elements) {
      if (e.dotDotDotToken) return '*';
      const key = e.propertyName ?? e.name;
      if (!ts.isIdentifier(key) && !ts.isStringLiteral(key)) return '*';
      names.push(key.text);
    }
    return names;
  }
  return '*';
}

/** The imports, exports and same-file uses of one file. `exists` says which repository files there are. */
export function parseFile(file: string, text: string, exists: (file: string) => boolean): FileFacts {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const references: Reference[] = [];
  const exports: Array<Omit<ExportedName, 'usedInFile'> & { local?: string; declaration?: ts.Identifier }> = [];
  const starExports: string[] = [];
  const lineOf = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  /** Namespace bindings (`import * as m`): the file and whether a use of `m` outside `m.x` was seen. */
  const namespaces = new Map<string, { ref: Reference; names: Set<string>; whole: boolean; declaration: ts.Identifier }>();
  const identifiers: Array<{ id: ts.Identifier }> = [];

  const refer = (node: ts.Node, specifier: ts.Expression | undefined, typeOnly: boolean, names: string[] | '*'): Reference | null => {
    if (!specifier || !ts.isStringLiteralLike(specifier)) return null;
    const to = resolve(file, specifier.text, exists);
    if (!to) return null;
    const ref: Reference = { to, line: lineOf(node), typeOnly, names };
    references.push(ref);
    return ref;
  };

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const typeOnly = clause?.isTypeOnly ?? false;
      const names: string[] = [];
      if (clause?.name) names.push('default');
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamedImports(bindings)) {
        for (const el of bindings.elements) names.push((el.propertyName ?? el.name).text);
        refer(node, node.moduleSpecifier, typeOnly || bindings.elements.every((e) => e.isTypeOnly), names);
      } else if (bindings && ts.isNamespaceImport(bindings)) {
        const ref = refer(node, node.moduleSpecifier, typeOnly, names);
        if (ref) namespaces.set(bindings.name.text, { ref, names: new Set(), whole: false, declaration: bindings.name });
      } else {
        refer(node, node.moduleSpecifier, typeOnly, names);
      }
      return;
    }
    if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      refer(node, node.moduleReference.expression, node.isTypeOnly, '*');
      return;
    }
    if (ts.isExportDeclaration(node)) {
      const typeOnly = node.isTypeOnly;
      const clause = node.exportClause;
      if (node.moduleSpecifier) {
        if (!clause) {
          const ref = refer(node, node.moduleSpecifier, typeOnly, []);
          if (ref) starExports.push(ref.to);
        } else if (ts.isNamespaceExport(clause)) {
          const ref = refer(node, node.moduleSpecifier, typeOnly, []);
          if (ref) exports.push({ name: clause.name.text, line: lineOf(node), from: { file: ref.to, name: '*' } });
        } else {
          const ref = refer(node, node.moduleSpecifier, typeOnly || clause.elements.every((e) => e.isTypeOnly), []);
          for (const el of clause.elements) {
            const name = el.name.text;
            const imported = (el.propertyName ?? el.name).text;
            exports.push({ name, line: lineOf(el), ...(ref ? { from: { file: ref.to, name: imported } } : {}) });
          }
        }
      } else if (clause && ts.isNamedExports(clause)) {
        for (const el of clause.elements) exports.push({ name: el.name.text, line: lineOf(el), local: (el.propertyName ?? el.name).text });
      }
      return;
    }
    if (ts.isExportAssignment(node)) {
      exports.push({ name: 'default', line: lineOf(node) });
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg)) {
        let names: string[] | '*' = '*';
        if (node.qualifier) {
          let q: ts.EntityName = node.qualifier;
          while (ts.isQualifiedName(q)) q = q.left;
          names = [q.text];
        } else if (ts.isAsExpression(node.parent) && ts.isCallExpression(node.parent.expression)) {
          // `require('x') as typeof import('x')`: the require's destructuring says what is taken.
          names = [];
        }
        refer(node, arg.literal, true, names);
      }
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      if ((isRequire || isImport) && node.arguments.length === 1) refer(node, node.arguments[0], false, takenByCall(node));
    } else if (ts.isIdentifier(node)) {
      identifiers.push({ id: node });
    }
    if (hasExportModifier(node)) {
      if (hasDefaultModifier(node)) {
        exports.push({ name: 'default', line: lineOf(node) });
      } else if (ts.isVariableStatement(node)) {
        for (const d of node.declarationList.declarations) {
          for (const id of bindingNames(d.name)) exports.push({ name: id.text, line: lineOf(id), local: id.text, declaration: id });
        }
      } else if (
        (ts.isFunctionDeclaration(node) || ts.isClassDeclaration(node) || ts.isInterfaceDeclaration(node) ||
          ts.isTypeAliasDeclaration(node) || ts.isEnumDeclaration(node) || ts.isModuleDeclaration(node)) &&
        node.name && ts.isIdentifier(node.name)
      ) {
        exports.push({ name: node.name.text, line: lineOf(node.name), local: node.name.text, declaration: node.name });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);

  // Namespace imports: `m.x` takes x; any other use of `m` takes the whole module.
  const declarations = new Set(exports.map((e) => e.declaration).filter(Boolean));
  const localUses = new Map<string, number>();
  for (const { id } of identifiers) {
    const ns = namespaces.get(id.text);
    if (ns && id !== ns.declaration) {
      const p = id.parent;
      if (ts.isPropertyAccessExpression(p) && p.expression === id) ns.names.add(p.name.text);
      else if (ts.isQualifiedName(p) && p.left === id) ns.names.add(p.right.text);
      else if (!isPropertyName(id)) ns.whole = true;
    }
    if (declarations.has(id) || isPropertyName(id)) continue;
    if (ts.isImportSpecifier(id.parent) || ts.isImportClause(id.parent) || ts.isNamespaceImport(id.parent)) continue;
    if (ts.isExportSpecifier(id.parent)) continue;
    localUses.set(id.text, (localUses.get(id.text) ?? 0) + 1);
  }
  for (const ns of namespaces.values()) ns.ref.names = ns.whole ? '*' : [...ns.names];

  return {
    file,
    references,
    starExports,
    exports: exports.map(({ local, declaration: _declaration, ...e }) => ({ ...e, usedInFile: local !== undefined && (localUses.get(local) ?? 0) > 0 })),
  };
}

/** Every strongly connected component of more than one file (or a file importing itself), each sorted. */
export function findCycles(edges: ReadonlyMap<string, Iterable<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = [...(edges.get(v) ?? [])].includes(v);
      if (component.length > 1 || selfLoop) found.push(component.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) connect(v);
  return found.sort((a, b) => a[0].localeCompare(b[0]));
}

/** One shortest way round a component, from its first file back to it: the imports to cut. */
function oneCycle(component: string[], facts: ReadonlyMap<string, FileFacts>): string {
  const inside = new Set(component);
  const start = component[0];
  const previous = new Map<string, { from: string; ref: Reference }>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const ref of facts.get(v)?.references ?? []) {
      if (!inside.has(ref.to) || previous.has(ref.to)) continue;
      previous.set(ref.to, { from: v, ref });
      if (ref.to === start) queue.length = 0;
      else queue.push(ref.to);
    }
  }
  const steps: string[] = [];
  let at = start;
  do {
    const step = previous.get(at)!;
    steps.unshift(`${step.from}:${step.ref.line}${step.ref.typeOnly ? ' (type)' : ''}`);
    at = step.from;
  } while (at !== start);
  return [...steps, start].join(' → ');
}

export interface Report {
  files: number;
  cycles: Array<{ files: string[]; path: string }>;
  unused: Array<{ file: string; name: string; line: number; usedInFile: boolean }>;
}

/** Analyses a set of files (repository-relative path → text): the cycles among `src/`, and `src/`'s unused exports. */
export function analyse(texts: ReadonlyMap<string, string>, entryPoints = ENTRY_POINTS): Report {
  const exists = (f: string) => texts.has(f);
  const facts = new Map<string, FileFacts>();
  for (const [file, text] of texts) facts.set(file, parseFile(file, text, exists));

  const inChecked = (f: string) => f.startsWith(`${CHECKED_DIR}/`);
  const edges = new Map<string, Set<string>>();
  for (const f of facts.values()) {
    if (!inChecked(f.file)) continue;
    edges.set(f.file, new Set(f.references.map((r) => r.to).filter(inChecked)));
  }
  const cycles = findCycles(edges).map((files) => ({ files, path: oneCycle(files, facts) }));

  // Uses, followed through re-exports and `export *`.
  const used = new Set<string>();
  const key = (file: string, name: string) => `${file}\0${name}`;
  const use = (file: string, name: string | '*', seen = new Set<string>()): void => {
    const k = key(file, name);
    if (seen.has(k)) return;
    seen.add(k);
    const f = facts.get(file);
    if (!f) return;
    for (const e of f.exports) {
      if (name !== '*' && e.name !== name) continue;
      used.add(key(file, e.name));
      if (e.from) use(e.from.file, e.from.name, seen);
    }
    for (const target of f.starExports) {
      if (name === '*' || exportsName(target, name, new Set())) use(target, name, seen);
    }
  };
  const exportsName = (file: string, name: string, seen: Set<string>): boolean => {
    if (seen.has(file)) return false;
    seen.add(file);
    const f = facts.get(file);
    if (!f) return false;
    return f.exports.some((e) => e.name === name) || f.starExports.some((t) => exportsName(t, name, seen));
  };
  for (const f of facts.values()) {
    for (const ref of f.references) {
      if (ref.to === f.file) continue;
      if (ref.names === '*') use(ref.to, '*');
      else for (const name of ref.names) use(ref.to, name);
    }
  }
  for (const entry of entryPoints) {
    if (entry.names === '*') use(entry.file, '*');
    else for (const name of entry.names) use(entry.file, name);
  }

  const unused: Report['unused'] = [];
  for (const f of [...facts.values()].sort((a, b) => a.file.localeCompare(b.file))) {
    if (!inChecked(f.file)) continue;
    for (const e of f.exports) {
      if (!used.has(key(f.file, e.name))) unused.push({ file: f.file, name: e.name, line: e.line, usedInFile: e.usedInFile });
    }
  }
  return { files: facts.size, cycles, unused };
}

function listSources(root: string, dir: string): string[] {
  const full = path.join(root, dir);
  if (!fs.existsSync(full)) return [];
  return fs.readdirSync(full, { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : listSources(root, rel);
    return SOURCE_EXTENSIONS.some((ext) => e.name.endsWith(ext)) && !e.name.endsWith('.d.ts') ? [rel] : [];
  });
}

/** The report for the repository at `root`. */
export function checkRepository(root: string): Report {
  const texts = new Map<string, string>();
  for (const dir of SCANNED_DIRS) for (const file of listSources(root, dir)) texts.set(file, fs.readFileSync(path.join(root, file), 'utf8'));
  return analyse(texts);
}

export function formatReport(report: Report): string {
  const lines: string[] = [];
  for (const c of report.cycles) lines.push(`import cycle among ${c.files.length} files: ${c.files.join(', ')}\n  e.g. ${c.path}`);
  for (const u of report.unused) {
    lines.push(`${u.file}:${u.line} exports ${u.name}, which no other file imports (${u.usedInFile ? 'used in its file: drop `export`' : 'not used in its file either: delete it'})`);
  }
  return lines.join('\n');
}

if (require.main === module) {
  const started = Date.now();
  const report = checkRepository(path.join(__dirname, '..', '..'));
  const text = formatReport(report);
  process.stdout.write(`${text}${text ? '\n' : ''}${report.files} files, ${report.cycles.length} cycles, ${report.unused.length} unused exports (${Date.now() - started} ms)\n`);
  process.exitCode = report.cycles.length + report.unused.length > 0 ? 1 : 0;
}
