/**
 * The secret values this process has resolved (connection passwords, API keys), so the redactor
 * (src/core/redact.ts) can blank them wherever they appear — including forms no pattern knows, such as
 * an exception quoting a value back. Kept in memory only; never logged, never serialised.
 */
const known = new Set<string>();

export function rememberSecret(value: string | undefined | null): void {
  if (value && value.length >= 4) known.add(value);
}

export function knownSecrets(): string[] {
  return [...known];
}
