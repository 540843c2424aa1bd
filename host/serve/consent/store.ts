/**
 * The answers "always" and "never" of one serve process (docs/consent.md): remembered at once for every
 * connection, and written into the package's sealed lock entry under the home's writer lock, so a new serve
 * (and this one, after its reload) has them as grant and refusal.
 *
 * Threat: the lock entry is re-sealed only if its seal still matches (an entry another writer changed is
 * never blessed by an answer), only for the installed version the answer was given to, and only for a rule
 * that entry asks for (host/serve/consent/answers.ts). A --dev package has no entry: its answers last for the
 * serve's life.
 */
import type { Home, LockRules } from '../../home/home.ts';
import { readLock } from '../../home/home.ts';
import { writeLockAtomic } from '../../home/lock-write.ts';
import { withHomeMutex } from '../../home/mutex.ts';
import { readSealKey, sealMatches } from '../../home/seal.ts';
import { HostError } from '../../errors.ts';
import { applyConsent, askedRule } from './answers.ts';
import type { AskedCapability } from './answers.ts';

/** How long a question waits for the user by default, ms (CONSENT_TIMEOUT after it). */
export const DEFAULT_CONSENT_TIMEOUT_MS = 5 * 60 * 1000;

/** The package an answer is about. */
export interface ConsentSubject {
  readonly name: string;
  readonly version: string;
  readonly origin: 'dev' | 'installed';
}

/** The organisation policy's verdict on an "always" answer (wired at merge; see askedRule). */
export type CeilingCheck = (pkg: string, added: LockRules) => { readonly allowed: true } | { readonly allowed: false; readonly message: string };

export interface ConsentStoreOptions {
  /** Where answers of installed packages are stored; absent: remembered for the process's life only. */
  readonly home?: Home;
  readonly timeoutMs?: number;
  /** Checks an "always" answer against the organisation policy's ceilings before it is stored. */
  readonly ceiling?: CeilingCheck;
  /** A stored answer that could not be written (it still holds for this process). */
  readonly onWriteError?: (pkg: string, error: unknown) => void;
}

export interface ConsentStore {
  readonly timeoutMs: number;
  /** The answer given for good in this process, if any. */
  decided(pkg: ConsentSubject, asked: AskedCapability): 'always' | 'never' | undefined;
  /** The policy ceiling's verdict on granting `asked` for good (allowed when no ceiling is set). */
  ceiling(pkg: ConsentSubject, asked: AskedCapability): { readonly allowed: true } | { readonly allowed: false; readonly message: string };
  /** Remembers an answer and, for an installed package, stores it in its lock entry (settles when written). */
  answer(pkg: ConsentSubject, asked: AskedCapability, answer: 'always' | 'never'): Promise<void>;
}

const keyOf = (pkg: ConsentSubject, asked: AskedCapability): string => JSON.stringify([pkg.name, pkg.version, asked.kind, asked.rule]);

/**
 * Writes one answer into the lock entry of `name` if it is still `version` and still sealed as written.
 * @throws HostError LOCK_INVALID (the entry's seal does not match), GRANT_INVALID (not an asked rule)
 */
export async function storeAnswer(home: Home, name: string, version: string, asked: AskedCapability, answer: 'always' | 'never'): Promise<boolean> {
  return withHomeMutex(home, async () => {
    const lock = await readLock(home);
    const entry = Object.hasOwn(lock.packages, name) ? lock.packages[name] : undefined;
    // Removed or updated meanwhile: the answer was about a version that is gone.
    if (entry === undefined || entry.version !== version) return false;
    const key = await readSealKey(home);
    if (key === undefined || !sealMatches(key, name, entry)) throw new HostError('LOCK_INVALID', `lock.json: the entry of ${name} is not sealed as install wrote it; the answer was not stored`);
    const next = applyConsent(name, entry, asked, answer);
    await writeLockAtomic(home, { version: 1, packages: { ...lock.packages, [name]: next } }, { seal: [name] });
    return true;
  });
}

export function createConsentStore(options: ConsentStoreOptions = {}): ConsentStore {
  const answers = new Map<string, 'always' | 'never'>();
  return {
    timeoutMs: options.timeoutMs ?? DEFAULT_CONSENT_TIMEOUT_MS,
    decided: (pkg, asked) => answers.get(keyOf(pkg, asked)),
    ceiling: (pkg, asked) => options.ceiling?.(pkg.name, askedRule(asked)) ?? { allowed: true },
    async answer(pkg, asked, answer) {
      answers.set(keyOf(pkg, asked), answer);
      if (options.home === undefined || pkg.origin !== 'installed') return;
      try {
        await storeAnswer(options.home, pkg.name, pkg.version, asked, answer);
      } catch (e) {
        options.onWriteError?.(pkg.name, e);
      }
    },
  };
}
