/**
 * JSON.parse that does not silently round numbers.
 *
 * The SQL Gateway writes BIGINT and DECIMAL column values as bare JSON numbers (verified on 1.20.3:
 * `-3637181598412896748`, `1.50` as `1.5`). JSON.parse turns the BIGINT into -3637181598412896800,
 * which would make a reconciliation against Postgres report differences that do not exist. Here every
 * number that a double cannot hold exactly is kept as its original text (a string) instead.
 */
export function parseJsonLossless(text: string): unknown {
  return JSON.parse(quoteUnsafeNumbers(text));
}

/** Rewrites the JSON text so that numbers a double would round become strings; leaves string contents alone. */
function quoteUnsafeNumbers(text: string): string {
  let out = '';
  let last = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i = skipString(text, i);
      continue;
    }
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      const end = numberEnd(text, i);
      const token = text.slice(i, end);
      if (!isExactDouble(token)) {
        out += text.slice(last, i) + '"' + token + '"';
        last = end;
      }
      i = end;
      continue;
    }
    i++;
  }
  return last === 0 ? text : out + text.slice(last);
}

function skipString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */) i += 2;
    else if (c === 0x22) return i + 1;
    else i++;
  }
  return i;
}

function numberEnd(text: string, start: number): number {
  let i = start;
  while (i < text.length && /[-+0-9.eE]/.test(text[i] as string)) i++;
  return i;
}

/** True when Number(token) represents exactly the value written (ignoring trailing zeros of a fraction). */
function isExactDouble(token: string): boolean {
  if (/[eE]/.test(token)) return true; // exponent notation is float by intent
  const n = Number(token);
  if (!Number.isFinite(n)) return false;
  if (!token.includes('.')) return Number.isSafeInteger(n);
  // A decimal round-trips when its significant digits fit in 15 (the digits a double always preserves).
  const digits = token.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return digits.length <= 15;
}
