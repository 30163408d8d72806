/**
 * One redactor for every form a secret takes in text gridflow shows or stores: SQL options
 * (`'password' = '…'`, `"password" = '…'`), PostgreSQL's `PASSWORD '…'`, JSON (`"password":"…"`),
 * key=value and key: value (`password=…`, `sslpassword: …`), URLs with credentials
 * (`postgres://user:…@host`), HTTP authorization headers, and — when the caller knows them — the secret
 * values themselves wherever they appear (exception text quoting a value back). Pure; no Node built-ins
 * (workflow code uses it too). Applied to every error message an activity returns, every event, every
 * status reason, the worker's log lines and the CLI's output.
 */

/** Words that make a key secret: password, passwd, pwd, secret, token, api key, credentials, private key. */
const SECRET_WORD = String.raw`(?:password|passwd|pwd|secret|token|api[-_]?key|credentials?|private[-_]?key)`;
/** A key naming a secret: the word anywhere in a key of letters, digits, dots, dashes and underscores. */
const KEY = String.raw`[A-Za-z0-9_.-]*${SECRET_WORD}[A-Za-z0-9_.-]*`;

export const MASK = '***';

/** An object key that names a secret (its value is masked whole by redactDeep). */
const SECRET_KEY = new RegExp(`^${KEY}$`, 'i');

const RULES: ReadonlyArray<[RegExp, string]> = [
  // 'database.password' = 'x'  (Flink SQL options; '' is an escaped quote inside)
  [new RegExp(String.raw`('${KEY}'\s*=\s*)'(?:[^']|'')*'`, 'gi'), `$1'${MASK}'`],
  // "password" = 'x'  /  "password": "x"  /  "password" : 'x'  (JSON, quoted identifiers)
  [new RegExp(String.raw`("${KEY}"\s*[:=]\s*)"(?:[^"\\]|\\.)*"`, 'gi'), `$1"${MASK}"`],
  [new RegExp(String.raw`("${KEY}"\s*[:=]\s*)'(?:[^']|'')*'`, 'gi'), `$1'${MASK}'`],
  // PostgreSQL: ALTER ROLE … PASSWORD 'x'
  [/(\bPASSWORD\s+)'(?:[^']|'')*'/gi, `$1'${MASK}'`],
  // Authorization: Bearer x / Basic x
  [/(\bauthorization\s*[:=]\s*(?:bearer|basic)?\s*)[^\s,;'"]+/gi, `$1${MASK}`],
  // scheme://user:secret@host
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@'"]*:)[^\s@'"/]+(@)/gi, `$1${MASK}$2`],
  // password=x / password: x / --password x  (unquoted; up to whitespace or a separator)
  [new RegExp(String.raw`((?:^|[^A-Za-z0-9_.'"-])${KEY}\s*[=:]\s*)(?!\*\*\*)(?!['"])[^\s,;&'"}\])]+`, 'gi'), `$1${MASK}`],
  [new RegExp(String.raw`((?:^|\s)--${KEY}[\s=]+)(?!\*\*\*)[^\s]+`, 'gi'), `$1${MASK}`],
];

/**
 * Blank every secret in `text`. `secrets` are values known to be secret (e.g. the passwords of the
 * connections this process resolved); values shorter than 4 characters are not searched for (they
 * would blank ordinary words), but their keyed forms still are.
 */
export function redact(text: string, secrets: Iterable<string> = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join(MASK);
  }
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out;
}

/** Redact every string inside a JSON-like value (events, statuses): objects and arrays are copied. */
export function redactDeep<T>(value: T, secrets: Iterable<string> = []): T {
  const list = [...secrets];
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v, list);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, SECRET_KEY.test(k) && typeof x === 'string' ? MASK : walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}
