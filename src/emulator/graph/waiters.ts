/**
 * Lets tests wait for a condition on emulator state instead of sleeping: `until` re-checks its
 * predicate whenever `changed()` is called and rejects with a descriptive error on timeout.
 */
export class Waiters {
  private readonly pending = new Set<() => void>();

  changed(): void {
    for (const check of [...this.pending]) check();
  }

  until<T>(probe: () => T | undefined, timeoutMs: number, description: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        let value: T | undefined;
        try {
          value = probe();
        } catch (error) {
          finish();
          reject(error);
          return;
        }
        if (value !== undefined) {
          finish();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${description}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.pending.delete(check);
      };
      this.pending.add(check);
      check();
    });
  }
}
